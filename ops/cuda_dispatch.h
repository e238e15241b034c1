// The dtype dispatch of the CUDA branch of an op's device switch: the counterpart of
// MONE_DISPATCH_FLOAT (ops/common.h) for the launchers of cuda/, which are templated on float and
// bf16. f64 has no CUDA kernel: such a call returns Unimplemented naming the op.
//
//   case DeviceType::kCUDA:
//     MONE_DISPATCH_CUDA_FLOAT(x.dtype(), "rmsnorm", {
//       MONE_RETURN_IF_ERROR(cuda::to_status(cuda::rmsnorm_forward<scalar_t>(..., cuda::current_stream()),
//                                            "rmsnorm"));
//     });
//
// Shape letters: none.
#pragma once

#include "core/tensor.h"

#define MONE_DISPATCH_CUDA_FLOAT(DTYPE, OPNAME, ...)                                                    \
  switch (DTYPE) {                                                                                     \
    case ::mone::DType::kF32: {                                                                        \
      using scalar_t = float;                                                                          \
      __VA_ARGS__                                                                                      \
    } break;                                                                                           \
    case ::mone::DType::kBF16: {                                                                       \
      using scalar_t = ::mone::bf16;                                                                   \
      __VA_ARGS__                                                                                      \
    } break;                                                                                           \
    default:                                                                                           \
      return absl::UnimplementedError(absl::StrCat(OPNAME, ": dtype ", ::mone::dtype_name(DTYPE),         \
                                                   " has no CUDA kernel (f32 and bf16 do)"));             \
  }

// What the CUDA branch of an op's device switch shares: the dtype dispatch (the counterpart of
// MONE_DISPATCH_FLOAT in ops/common.h for the launchers of cuda/, which are templated on float and
// bf16; f64 has no CUDA kernel: such a call returns Unimplemented naming the op), a workspace for
// launchers that ask for one, and the elements of an index tensor of either index dtype.
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

namespace mone::ops {

// Scratch of at least `bytes` on `device` for a launcher that asks for a workspace.
StatusOr<Tensor> cuda_workspace(size_t bytes, Device device);

// fn(the elements of an i32 or i64 index tensor, as const int32_t* or const int64_t*).
template <class Fn>
auto with_index_data(const Tensor& index, Fn&& fn) {
  return index.dtype() == DType::kI64 ? fn(static_cast<const int64_t*>(index.data<int64_t>()))
                                      : fn(static_cast<const int32_t*>(index.data<int32_t>()));
}

}  // namespace mone::ops

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

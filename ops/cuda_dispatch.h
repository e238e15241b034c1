// What the CUDA branch of an op's device switch shares: the element types CUDA kernels take (f32
// and bf16, with f32 arithmetic; the CPU kernels take f32 and f64) and a dispatch over them.
// Shape letters: none.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

// t is defined and a float type its device has kernels for: f32 or f64 on the CPU, f32 or bf16 on CUDA.
Status check_float_on_device(const char* op, const Tensor& t, const char* name);

// Scratch of at least `bytes` on `device` for a launcher that asks for a workspace.
StatusOr<Tensor> cuda_workspace(size_t bytes, Device device);

// fn(the elements of an i32 or i64 index tensor, as const int32_t* or const int64_t*).
template <class Fn>
auto with_index_data(const Tensor& index, Fn&& fn) {
  return index.dtype() == DType::kI64 ? fn(static_cast<const int64_t*>(index.data<int64_t>()))
                                      : fn(static_cast<const int32_t*>(index.data<int32_t>()));
}

}  // namespace mone::ops

// MONE_DISPATCH_CUDA_FLOAT(dtype, "op", { body using scalar_t }): runs body with scalar_t = float
// or mone::bf16; any other dtype returns an InvalidArgument error from the enclosing function.
#define MONE_DISPATCH_CUDA_FLOAT(DTYPE, OPNAME, ...)                                                  \
  switch (DTYPE) {                                                                                  \
    case ::mone::DType::kF32: {                                                                     \
      using scalar_t = float;                                                                       \
      __VA_ARGS__                                                                                   \
    } break;                                                                                        \
    case ::mone::DType::kBF16: {                                                                    \
      using scalar_t = ::mone::bf16;                                                                \
      __VA_ARGS__                                                                                   \
    } break;                                                                                        \
    default:                                                                                        \
      return absl::InvalidArgumentError(                                                            \
          absl::StrCat(OPNAME, ": dtype ", ::mone::dtype_name(DTYPE), " is not supported on CUDA")); \
  }

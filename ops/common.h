// Shared argument checks and dtype dispatch for op families.
//
// Every public op: (1) checks its arguments and returns a Status naming the op and the shapes,
// (2) dispatches on device with one plain switch (cpu:: reference, cuda:: launchers),
// (3) on the CPU, dispatches on dtype to a template over float and double.
#pragma once

#include <string>

#include "core/tensor.h"

namespace mone::ops {

// "op: a is f32[2, 3] cpu, b is f64[3] cpu"-style detail for error messages.
std::string describe_args(std::initializer_list<std::pair<const char*, const Tensor*>> args);

Status check_defined(const char* op, const Tensor& t, const char* name);
// f32 or f64 (what the CPU kernels are templated on), or bf16 on CUDA (ops/cuda_dispatch.h).
Status check_float(const char* op, const Tensor& t, const char* name);
Status check_dtype(const char* op, const Tensor& t, DType dtype, const char* name);
Status check_dim(const char* op, const Tensor& t, int64_t dim, const char* name);
Status check_shape(const char* op, const Tensor& t, const Shape& shape, const char* name);
// All tensors on one device and of one dtype.
Status check_same(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> args);
Status check_index_dtype(const char* op, const Tensor& t, const char* name);  // i32 or i64
Status unsupported_device(const char* op, Device device);

// A fresh contiguous output tensor on `device` (errors only on allocation failure).
StatusOr<Tensor> new_tensor(const Shape& shape, DType dtype, Device device);

}  // namespace mone::ops

// MONE_DISPATCH_FLOAT(dtype, "op", { body using scalar_t }): runs body with scalar_t = float or
// double; any other dtype returns an InvalidArgument error from the enclosing function.
#define MONE_DISPATCH_FLOAT(DTYPE, OPNAME, ...)                                                   \
  switch (DTYPE) {                                                                               \
    case ::mone::DType::kF32: {                                                                  \
      using scalar_t = float;                                                                    \
      __VA_ARGS__                                                                                \
    } break;                                                                                     \
    case ::mone::DType::kF64: {                                                                  \
      using scalar_t = double;                                                                   \
      __VA_ARGS__                                                                                \
    } break;                                                                                     \
    default:                                                                                     \
      return absl::InvalidArgumentError(                                                         \
          absl::StrCat(OPNAME, ": dtype ", ::mone::dtype_name(DTYPE), " is not supported on the CPU")); \
  }

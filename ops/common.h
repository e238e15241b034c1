// The one header of argument checks for every op family, and the CPU dtype dispatch.
//
// Every public op: (1) checks its arguments and returns a Status naming the op and the shapes,
// (2) dispatches on device with one plain switch (cpu:: reference kernels, cuda:: launchers),
// (3) on the CPU, dispatches on dtype to a template over float and double.
//
// Index checks, one policy for every device. A check of an index tensor's values reads every
// index, so it runs where the indices can be read without a device-to-host copy:
//   - a CPU index tensor is checked in full before any kernel runs; a bad index is a Status
//     naming the op, the tensor, the position and the value;
//   - a CUDA index tensor is not read back (that would stall the stream once per op). Indices a
//     user supplies (token ids, targets) are host data: they are checked on the host before they
//     are copied to the device (Transformer::forward and the loaders do this); the other CUDA index
//     tensors are made by mone's own kernels (router, dispatch, top-k), in range by construction.
// Shape letters: none; these checks take any shapes.
#pragma once

#include <optional>
#include <string>

#include "core/tensor.h"

namespace mone::ops {

using TensorArgs = std::initializer_list<std::pair<const char*, const Tensor*>>;

// "a is f32[2, 3] cpu, b is f64[3] cpu"-style detail for error messages.
std::string describe_args(TensorArgs args);
// The multi-index of row-major position `p` in `shape`, as "[1, 3]".
std::string position_string(const Shape& shape, int64_t p);

// ---- one tensor ----
Status check_defined(const char* op, const Tensor& t, const char* name);
// f32 or f64 (what the CPU kernels are templated on), or bf16 on CUDA (ops/cuda_dispatch.h).
Status check_float(const char* op, const Tensor& t, const char* name);
Status check_dtype(const char* op, const Tensor& t, DType dtype, const char* name);
Status check_dim(const char* op, const Tensor& t, int64_t dim, const char* name);
// At least `min_dim` dimensions (e.g. 1 for ops over the last dimension).
Status check_min_dim(const char* op, const Tensor& t, int64_t min_dim, const char* name);
Status check_shape(const char* op, const Tensor& t, const Shape& shape, const char* name);
// A float tensor with exactly `dims` dimensions.
Status check_float_dims(const char* op, const Tensor& t, int64_t dims, const char* name);
Status check_index_dtype(const char* op, const Tensor& t, const char* name);  // i32 or i64

// ---- several tensors ----
// All defined, on one device and of one dtype.
Status check_same(const char* op, TensorArgs args);
// Every argument defined, f32 or f64, and all of one dtype, device and shape.
Status check_float_same_shape(const char* op, TensorArgs args);
// A defined tensor with `shape` and the dtype and device of `like`.
Status check_like(const char* op, const Tensor& t, const Shape& shape, const Tensor& like, const char* name);
// An optional tensor (undefined means "absent", e.g. no gradient from this path); when defined it
// must have `shape` and the dtype and device of `like`.
Status check_optional(const char* op, const Tensor& t, const Shape& shape, const Tensor& like, const char* name);

// ---- index values (the policy above) ----
// How check_indices words its error.
struct IndexRange {
  int64_t bound;                       // indices lie in [0, bound)
  const char* bound_name = nullptr;    // "V": "[0, V = 61)" instead of "[0, 61)"
  std::optional<int64_t> skip = {};    // one more allowed value, e.g. an ignore index
  const char* skip_name = "";          // "ignore_index"
  std::string context = {};            // appended after "; " (e.g. the arguments' shapes)
};
// Every index of an i32/i64 tensor lies in the range, or equals its skip value:
//   "cross_entropy: targets[3] = 70 is outside [0, V = 61) and is not ignore_index -1; ..."
Status check_indices(const char* op, const Tensor& index, const char* name, const IndexRange& range);
// Segment offsets [E + 1] i64 with 0 = offsets[0] <= ... <= offsets[E] = rows (values checked
// under the same policy).
Status check_offsets(const char* op, const Tensor& offsets, int64_t e, int64_t rows);

// ---- misc ----
// `dim` in [-rank, rank), returned in [0, rank).
StatusOr<int64_t> normalize_dim(const char* op, int64_t dim, int64_t rank);
// A CPU i32/i64 index tensor as a contiguous i64 tensor (i32 is widened; i64 is returned as is).
Tensor index_as_i64(const Tensor& index);
Status unsupported_device(const char* op, Device device);
// A fresh contiguous output tensor on `device` (errors only on allocation failure).
StatusOr<Tensor> new_tensor(const Shape& shape, DType dtype, Device device);
// A contiguous copy of an optional tensor (undefined stays undefined).
inline Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.contiguous() : Tensor(); }
// data<T>() of a contiguous optional tensor, or nullptr when undefined.
template <typename T>
T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

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

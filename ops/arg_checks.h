// Argument checks shared by the reduce, activation, softmax, cross_entropy, embedding, topk,
// gather and optim families (on top of ops/common.h).
// Shape letters: none; these checks take any shapes.
//
// Index tensors (targets, ids, top-k indices, gather indices) are i32 or i64 from the user; the
// CPU kernels read them as i64. Every index is validated before a kernel runs, so a bad id is a
// Status naming the op, the position and the value, never an out-of-bounds read.
#pragma once

#include <optional>

#include "core/tensor.h"

namespace mone::ops {

// Every argument defined, f32 or f64, and all of one dtype, device and shape.
Status check_float_same_shape(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> args);

// At least `min_dim` dimensions (e.g. 1 for ops over the last dimension).
Status check_min_dim(const char* op, const Tensor& t, int64_t min_dim, const char* name);

// `dim` in [-rank, rank), returned in [0, rank).
StatusOr<int64_t> normalize_dim(const char* op, int64_t dim, int64_t rank);

// A CPU i32/i64 index tensor as a contiguous i64 tensor (i32 is widened; i64 is returned as is).
Tensor index_as_i64(const Tensor& index);

struct BadIndex {
  int64_t position;  // row-major position in the index tensor
  int64_t value;
};
// The first index outside [0, bound) that is not `skip`, if any. Reads a CUDA index through a
// host copy.
StatusOr<std::optional<BadIndex>> first_out_of_range(const Tensor& index, int64_t bound,
                                                     std::optional<int64_t> skip = {});

// The multi-index of row-major position `p` in `shape`, as "[1, 3]" (for error messages).
std::string position_string(const Shape& shape, int64_t p);

}  // namespace mone::ops

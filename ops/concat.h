// Concatenation along a dimension, and its backward (slicing the gradient back apart).
// Shape letters: none; inputs agree on every dimension but `dim`. Undefined inputs are skipped
// (so a KV cache can start empty).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace mone::ops {

StatusOr<Tensor> concat(const std::vector<Tensor>& parts, int64_t dim);
// grad of concat: the slices of grad_out along `dim` with the given sizes (fresh, =).
StatusOr<std::vector<Tensor>> concat_backward(const Tensor& grad_out, int64_t dim, const std::vector<int64_t>& sizes);

}  // namespace mone::ops

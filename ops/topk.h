// Top-k along the last dimension.
//
// Shape letters: [...] any leading dimensions (R rows once flattened), n the searched (last)
// dimension, k the number kept (1 <= k <= n).
// Order: values descending; equal values by the lower index first; NaN counts as larger than
// every number (as in PyTorch), so the order is total and the result deterministic.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

struct TopkResult {
  Tensor values;   // [..., k], x's dtype
  Tensor indices;  // [..., k], i64: positions in the last dimension of x
};

StatusOr<TopkResult> topk(const Tensor& x, int64_t k);

// grad_x [..., n] (=): zero except grad_x[r, indices[r, i]] = grad_values[r, i] (repeated indices
// in one row accumulate). The selection itself carries no gradient.
StatusOr<Tensor> topk_backward(const Tensor& grad_values, const Tensor& indices, int64_t n);

}  // namespace mone::ops

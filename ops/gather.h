// Gather and scatter-add along one dimension, with PyTorch's semantics.
//
// Shape letters: r the rank shared by x (or base_shape), index, src and out; `dim` the indexed
// dimension (negative counts from the end). For r = 2 and dim = 1:
//   gather:       out[i, j] = x[i, index[i, j]]                     out has index's shape
//   scatter_add:  out = zeros(base_shape); out[i, index[i, j]] += src[i, j]   (src has index's shape)
// index is i32 or i64 with x's rank; index.size(d) <= x.size(d) for every d != dim; each value
// lies in [0, x.size(dim)), otherwise the error names the position and the value.
// Both are deterministic: scatter_add sums each output element in index order on one thread.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

StatusOr<Tensor> gather(const Tensor& x, int64_t dim, const Tensor& index);
StatusOr<Tensor> scatter_add(const Shape& base_shape, int64_t dim, const Tensor& index, const Tensor& src);

// out = gather(x, dim, index):                  grad_x (=) = scatter_add(x_shape, dim, index, grad_out).
StatusOr<Tensor> gather_backward(const Tensor& grad_out, const Shape& x_shape, int64_t dim, const Tensor& index);
// out = scatter_add(base_shape, dim, index, src):  grad_src (=) = gather(grad_out, dim, index).
StatusOr<Tensor> scatter_add_backward(const Tensor& grad_out, int64_t dim, const Tensor& index);

}  // namespace mone::ops

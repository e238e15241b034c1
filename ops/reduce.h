// Reductions: the sum and the mean of all elements, and the sum over the last dimension.
//
// Shape letters: [...] any leading dimensions, n the last (reduced) dimension.
// f32 sums accumulate in double, in fixed blocks, so a result never depends on the thread count.
// Every backward returns a fresh gradient (=).
#pragma once

#include "core/tensor.h"

namespace mone::ops {

// sum(x) = Σ_i x_i: a 0-d tensor of x's dtype (0 for an empty x).
StatusOr<Tensor> sum(const Tensor& x);
// mean(x) = Σ_i x_i / numel(x): a 0-d tensor; x must have at least one element.
StatusOr<Tensor> mean(const Tensor& x);
// sum_last(x [..., n]) -> [...]:  out[r] = Σ_j x[r, j].
StatusOr<Tensor> sum_last(const Tensor& x);

// out = sum(x):       grad_x (=) = grad_out (0-d) at every position of x_shape.
StatusOr<Tensor> sum_backward(const Tensor& grad_out, const Shape& x_shape);
// out = mean(x):      grad_x (=) = grad_out (0-d) / numel(x_shape) at every position.
StatusOr<Tensor> mean_backward(const Tensor& grad_out, const Shape& x_shape);
// out = sum_last(x):  grad_x [..., n] (=) with grad_x[r, j] = grad_out[r].
StatusOr<Tensor> sum_last_backward(const Tensor& grad_out, const Shape& x_shape);

}  // namespace mone::ops

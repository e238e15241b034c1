// Softmax and log-softmax over the last dimension.
//
// Shape letters: [...] any leading dimensions (R rows once flattened), n the normalised (last)
// dimension. Both subtract the row maximum before exponentiating, so no input overflows; row sums
// accumulate in double. Every backward returns a fresh gradient (=) and takes the forward's output y.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

// y[r, j] = exp(x[r, j] - m_r) / Σ_k exp(x[r, k] - m_r),  m_r = max_k x[r, k].
StatusOr<Tensor> softmax(const Tensor& x);
// y[r, j] = x[r, j] - m_r - log Σ_k exp(x[r, k] - m_r).
StatusOr<Tensor> log_softmax(const Tensor& x);

// y = softmax(x):      grad_x (=) = y ⊙ (grad_out - Σ_k grad_out[r, k] y[r, k]).
StatusOr<Tensor> softmax_backward(const Tensor& grad_out, const Tensor& y);
// y = log_softmax(x):  grad_x (=) = grad_out - exp(y) · Σ_k grad_out[r, k].
StatusOr<Tensor> log_softmax_backward(const Tensor& grad_out, const Tensor& y);

}  // namespace mone::ops

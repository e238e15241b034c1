// Activations: sigmoid, silu, and the fused SwiGLU product silu(gate) ⊙ up.
//
// Shape letters: none; any shape [...]. Binary operands (gate and up, grad_out and x) share one
// shape, dtype and device. Every backward returns fresh gradients (=).
#pragma once

#include "core/tensor.h"

namespace mone::ops {

// y = σ(x) = 1 / (1 + e^-x), evaluated without overflow for large |x|.
StatusOr<Tensor> sigmoid(const Tensor& x);
// y = silu(x) = x · σ(x).
StatusOr<Tensor> silu(const Tensor& x);
// y = silu(gate) ⊙ up: the inner product of a SwiGLU feed-forward, in one pass.
StatusOr<Tensor> swiglu(const Tensor& gate, const Tensor& up);

// y = σ(x):      grad_x (=) = grad_out ⊙ y ⊙ (1 - y)   (takes the forward's output y).
StatusOr<Tensor> sigmoid_backward(const Tensor& grad_out, const Tensor& y);
// y = silu(x):   grad_x (=) = grad_out ⊙ σ(x) ⊙ (1 + x ⊙ (1 - σ(x)))   (takes the input x).
StatusOr<Tensor> silu_backward(const Tensor& grad_out, const Tensor& x);

struct SwigluGrads {
  Tensor grad_gate;
  Tensor grad_up;
};
// y = silu(gate) ⊙ up:  grad_gate (=) = grad_out ⊙ up ⊙ silu'(gate),  grad_up (=) = grad_out ⊙ silu(gate).
StatusOr<SwigluGrads> swiglu_backward(const Tensor& grad_out, const Tensor& gate, const Tensor& up);

}  // namespace mone::ops

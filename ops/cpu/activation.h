// CPU kernels for ops/activation.h. Contiguous inputs.
// Shape letters: n the element count (activations are elementwise, any shape).
#pragma once

#include <cstdint>

#include "ops/op_types.h"

namespace mone::ops::cpu {

// y[i] = act(x[i]).
template <typename T>
void activation_forward(Activation act, const T* x, int64_t n, T* y);

// grad_x[i] = grad_out[i] · act'(x[i]). For kSigmoid, `in` is the forward's output y
// (σ' = y (1 - y)); for kSilu it is the input x (silu' = σ(x) (1 + x (1 - σ(x)))).
template <typename T>
void activation_backward(Activation act, const T* grad_out, const T* in, int64_t n, T* grad_x);

// y[i] = silu(gate[i]) · up[i].
template <typename T>
void swiglu_forward(const T* gate, const T* up, int64_t n, T* y);

// grad_gate[i] = grad_out[i] · up[i] · silu'(gate[i]),  grad_up[i] = grad_out[i] · silu(gate[i]).
template <typename T>
void swiglu_backward(const T* grad_out, const T* gate, const T* up, int64_t n, T* grad_gate, T* grad_up);

}  // namespace mone::ops::cpu

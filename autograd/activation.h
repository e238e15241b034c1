// Differentiable activations (see ops/activation.h): sigmoid, silu, and fused swiglu.
// Shape letters: none; any shape (gate and up share one).
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

StatusOr<Variable> sigmoid(const Variable& x);
StatusOr<Variable> silu(const Variable& x);
// silu(gate) ⊙ up.
StatusOr<Variable> swiglu(const Variable& gate, const Variable& up);

}  // namespace mone::autograd

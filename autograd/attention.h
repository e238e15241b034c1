// Differentiable causal attention with grouped kv heads (see ops/attention.h).
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

// q [B, Tq, H, hd], k and v [B, Tk, Hkv, hd] -> out [B, Tq, H, hd]; the softmax is saved for backward.
StatusOr<Variable> attention(const Variable& q, const Variable& k, const Variable& v);

}  // namespace mone::autograd

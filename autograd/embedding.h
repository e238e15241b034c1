// Differentiable embedding lookup (see ops/embedding.h). Shape letters: V vocab, d width.
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

// weight [V, d], ids [...] i32/i64 (not differentiable) -> [..., d].
StatusOr<Variable> embedding(const Variable& weight, const Tensor& ids);

}  // namespace mone::autograd

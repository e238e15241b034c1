// Differentiable elementwise arithmetic (see ops/elementwise.h for shapes and broadcasting).
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

StatusOr<Variable> add(const Variable& a, const Variable& b);
StatusOr<Variable> sub(const Variable& a, const Variable& b);
StatusOr<Variable> mul(const Variable& a, const Variable& b);
StatusOr<Variable> scale(const Variable& a, double s);
// min(max(x, lo), hi); the gradient passes where lo <= x <= hi.
StatusOr<Variable> clamp(const Variable& x, double lo, double hi);

}  // namespace mone::autograd

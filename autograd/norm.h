// Differentiable RMSNorm (see ops/norm.h).
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

// y = x · rsqrt(mean(x²) + eps) · w over the last dimension: x [..., d], w [d].
StatusOr<Variable> rmsnorm(const Variable& x, const Variable& w, double eps);

}  // namespace mone::autograd

// Differentiable softmax and log-softmax over the last dimension (see ops/softmax.h).
// Shape letters: [...] leading dims, n the normalised (last) dim.
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

StatusOr<Variable> softmax(const Variable& x);
StatusOr<Variable> log_softmax(const Variable& x);

}  // namespace mone::autograd

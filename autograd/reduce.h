// Differentiable reductions (see ops/reduce.h): sum and mean of all elements, sum over the last dim.
// Shape letters: [...] leading dims, n the last dim.
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

StatusOr<Variable> sum(const Variable& x);       // 0-d
StatusOr<Variable> mean(const Variable& x);      // 0-d
StatusOr<Variable> sum_last(const Variable& x);  // [..., n] -> [...]

}  // namespace mone::autograd

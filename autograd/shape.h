// Differentiable reshape: a view of the same values with a new shape; the backward reshapes the
// gradient back. (Reshaping is free for contiguous tensors; see Tensor::reshape.)
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

StatusOr<Variable> reshape(const Variable& x, const Shape& shape);

}  // namespace mone::autograd

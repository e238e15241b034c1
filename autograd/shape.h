// Differentiable shape ops: reshape (a view of the same values with a new shape; the backward
// reshapes the gradient back; free for contiguous tensors, see Tensor::reshape) and concat (the
// backward slices the gradient apart, ops/concat.h).
#pragma once

#include <vector>

#include "autograd/variable.h"

namespace mone::autograd {

StatusOr<Variable> reshape(const Variable& x, const Shape& shape);

// parts along `dim`; a part whose value is undefined (an empty KV cache) is skipped and gets no
// gradient.
StatusOr<Variable> concat(const std::vector<Variable>& parts, int64_t dim);

}  // namespace mone::autograd

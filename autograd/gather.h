// Differentiable gather and scatter-add along one dimension (see ops/gather.h for the semantics).
// Shape letters: r the rank shared by x (or base_shape), index and src; `dim` the indexed dim.
// The index is not differentiable; each op's backward is the other op.
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

StatusOr<Variable> gather(const Variable& x, int64_t dim, const Tensor& index);
StatusOr<Variable> scatter_add(const Shape& base_shape, int64_t dim, const Tensor& index, const Variable& src);

}  // namespace mone::autograd

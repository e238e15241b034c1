// Differentiable top-k along the last dimension (see ops/topk.h). Shape letters: n searched, k kept.
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

struct TopkResult {
  Variable values;  // [..., k]: gradient flows back to the selected positions of x
  Tensor indices;   // [..., k] i64: the selection, which carries no gradient
};

StatusOr<TopkResult> topk(const Variable& x, int64_t k);

}  // namespace mone::autograd

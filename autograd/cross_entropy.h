// Differentiable fused cross-entropy (see ops/cross_entropy.h). Shape letters: N rows, V vocab.
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

// The 0-d mean loss over targets that are not ignore_index; logits [N, V], targets [N] i32/i64
// (not differentiable). The backward reuses the forward's saved log-sum-exp.
StatusOr<Variable> cross_entropy(const Variable& logits, const Tensor& targets, int64_t ignore_index = -1);

}  // namespace mone::autograd

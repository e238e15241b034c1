// Differentiable matrix multiplication and the linear layer (see ops/matmul.h for the forms).
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

StatusOr<Variable> matmul(const Variable& a, const Variable& b, bool trans_a = false, bool trans_b = false);
// y = x · wᵀ: x [..., in], w [out, in] -> y [..., out] (no bias; mone's linear layers have none).
StatusOr<Variable> linear(const Variable& x, const Variable& w);

}  // namespace mone::autograd

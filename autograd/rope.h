// Differentiable rotary position embedding (see ops/rope.h).
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

// x [B, T, H, hd] -> y [B, T, H, hd], row t at position position_offset + t.
StatusOr<Variable> rope(const Variable& x, int64_t position_offset, double theta);

}  // namespace mone::autograd

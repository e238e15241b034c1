// A differentiable change of dtype, the seam of mixed precision: each forward casts the f32 master
// weights to the compute dtype (bf16 on the GPU), and the backward casts each gradient back, so
// gradients reach the masters in the masters' own dtype and accumulate there.
//
//   y  = cast(x, dtype)      Tensor::to(dtype): bf16 rounds to nearest even, widening is exact
//   dx = dy cast to x's dtype (the rounding's derivative is taken as 1)
//
// The forward saves nothing. Tensor::to is the op (core/, any device: a CPU loop or the strided
// copy kernel of core/cuda_copy.h); this file only makes it differentiable.
// Shape letters: none; y has x's shape and device.
#pragma once

#include "autograd/variable.h"

namespace mone::autograd {

// x in `dtype` (floating dtypes only). When x already has it, x itself: no copy, no tape entry.
StatusOr<Variable> cast(const Variable& x, DType dtype);

// x in accumulation_dtype(x) (core/dtype.h): bf16 becomes f32, f32 and f64 stay as they are. For
// the inputs of losses, which mixed precision reduces in f32.
StatusOr<Variable> upcast(const Variable& x);

}  // namespace mone::autograd

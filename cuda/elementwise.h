// CUDA launchers for ops/elementwise.h (f32). Pointers are device pointers; `b` repeats every nb
// elements of `a` (or the other way round), exactly as the CPU kernel in ops/cpu/elementwise.h.
// Each launches on `stream` and returns the launch's cudaError_t (cuda/launch.h).
// Shape letters: none; n elements, the broadcast operand repeats every m elements.
#pragma once

#include <cstdint>

#include "cuda/launch.h"
#include "ops/op_types.h"

namespace mone::cuda {

// out[i] = a[i % na] (op) b[i % nb] for i < max(na, nb).
cudaError_t binary_forward(ops::BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb, float* out,
                           cudaStream_t stream);
// out[i] = s · a[i].
cudaError_t scale(const float* a, int64_t n, float s, float* out, cudaStream_t stream);

}  // namespace mone::cuda

// CUDA elementwise arithmetic for ops/elementwise.h (f32). Plain C++ header: ops/ includes it
// without nvcc. Pointers are device pointers; `b` repeats every nb elements of `a` (or the other
// way round), exactly as the CPU kernel in ops/cpu/elementwise.h.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace mone::cuda {

enum class BinaryKind { kAdd, kSub, kMul };

// out[i] = a[i % na] (op) b[i % nb] for i < max(na, nb).
Status binary_forward(BinaryKind kind, const float* a, int64_t na, const float* b, int64_t nb, float* out);
// out[i] = s · a[i].
Status scale(const float* a, int64_t n, float s, float* out);

}  // namespace mone::cuda

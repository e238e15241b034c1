// CUDA launchers for ops/elementwise.h, over T = float or bf16 (computed in f32, rounded once).
// Pointers are device pointers; `b` repeats every nb elements of `a` (or the other way round),
// exactly as the CPU kernel in ops/cpu/elementwise.h. The gradient's sum over broadcast
// dimensions is cuda/reduce.h's sum_rows.
// Each launches on `stream` and returns the launch's cudaError_t (cuda/launch.h).
// Shape letters: none; n elements, the broadcast operand repeats every m elements.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"
#include "ops/op_types.h"

namespace mone::cuda {

// out[i] = a[i % na] (op) b[i % nb] for i < max(na, nb).
template <typename T>
cudaError_t binary_forward(ops::BinaryOp op, const T* a, int64_t na, const T* b, int64_t nb, T* out,
                           cudaStream_t stream);
// out[i] = s · a[i] (in f32, as the CPU's f32 kernel); out may be a (in place, for clipping).
template <typename T>
cudaError_t scale(const T* a, int64_t n, float s, T* out, cudaStream_t stream);
// out[i] = min(max(x[i], lo), hi) (NaN stays NaN), as the CPU kernel.
template <typename T>
cudaError_t clamp(const T* x, int64_t n, float lo, float hi, T* out, cudaStream_t stream);
// grad_x[i] = grad_out[i] if lo <= x[i] <= hi, else 0.
template <typename T>
cudaError_t clamp_backward(const T* grad_out, const T* x, int64_t n, float lo, float hi, T* grad_x,
                           cudaStream_t stream);

// dst[i] += src[i] over i64 counts (statistics accumulated on the device).
cudaError_t add_counts(int64_t* dst, const int64_t* src, int64_t n, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_ELEMENTWISE_LAUNCHERS(T)                                                                     \
  template cudaError_t binary_forward<T>(ops::BinaryOp, const T*, int64_t, const T*, int64_t, T*, cudaStream_t); \
  template cudaError_t scale<T>(const T*, int64_t, float, T*, cudaStream_t);                                    \
  template cudaError_t clamp<T>(const T*, int64_t, float, float, T*, cudaStream_t);                             \
  template cudaError_t clamp_backward<T>(const T*, const T*, int64_t, float, float, T*, cudaStream_t);

// CUDA launchers for ops/reduce.h, the sums behind broadcasting gradients (ops/elementwise.h's
// sum_to_shape), and the squared sums of the gradient norm (ops/optim.h). T = float or bf16;
// every sum accumulates in double, as the CPU's, in an order fixed by the sizes alone (never by
// the GPU): the same inputs give the same bits on every run and every GPU. No atomics.
//
// Shape letters: [rows, n] a matrix whose last dimension n is reduced (sum_last), [rows, m] one
// whose rows are summed into m columns (sum_rows); C = row_chunks(rows) chunks of kRowsPerChunk
// rows each.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"

namespace mone::cuda {

// Partial sums of sum_all / sum_squares: `partials` must hold kSumPartials doubles.
constexpr int64_t kSumPartials = 1024;
// sum_rows and column reductions like it: rows are summed in chunks of this many, in order, then
// the chunks in order. `partials` must hold row_chunks(rows) · m doubles.
constexpr int64_t kRowsPerChunk = 128;
inline int64_t row_chunks(int64_t rows) { return (rows + kRowsPerChunk - 1) / kRowsPerChunk; }

// out[0] = scale · Σ_i x[i] (sum: scale 1; mean: 1 / n).
template <typename T>
cudaError_t sum_all(const T* x, int64_t n, double scale, double* partials, T* out, cudaStream_t stream);
// out[0] = scale · Σ_i x[i] over doubles (per-row terms a kernel wrote), rounded once to T.
template <typename T>
cudaError_t sum_f64(const double* x, int64_t n, double scale, double* partials, T* out, cudaStream_t stream);
// out[0] = Σ_i x[i]², in double (one tensor's share of a gradient norm).
template <typename T>
cudaError_t sum_squares(const T* x, int64_t n, double* partials, double* out, cudaStream_t stream);
// out[r] = Σ_j x[r, j] for x [rows, n].
template <typename T>
cudaError_t sum_last(const T* x, int64_t rows, int64_t n, T* out, cudaStream_t stream);
// out[r, j] = s · g[r] for out [rows, n].
template <typename T>
cudaError_t broadcast_last(const T* g, int64_t rows, int64_t n, float s, T* out, cudaStream_t stream);
// out[j] = Σ_r x[r, j] for x [rows, m] (the CPU's sum_rows).
template <typename T>
cudaError_t sum_rows(const T* x, int64_t rows, int64_t m, double* partials, T* out, cudaStream_t stream);
// out[j] = Σ_c partials[c, j] over c < chunks, in order: the second pass of sum_rows, for kernels
// that write their own chunk partials (RMSNorm's grad_w).
template <typename T>
cudaError_t sum_partials(const double* partials, int64_t chunks, int64_t m, T* out, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_REDUCE_LAUNCHERS(T)                                                                          \
  template cudaError_t sum_all<T>(const T*, int64_t, double, double*, T*, cudaStream_t);                       \
  template cudaError_t sum_f64<T>(const double*, int64_t, double, double*, T*, cudaStream_t);                  \
  template cudaError_t sum_squares<T>(const T*, int64_t, double*, double*, cudaStream_t);                      \
  template cudaError_t sum_last<T>(const T*, int64_t, int64_t, T*, cudaStream_t);                              \
  template cudaError_t broadcast_last<T>(const T*, int64_t, int64_t, float, T*, cudaStream_t);                 \
  template cudaError_t sum_rows<T>(const T*, int64_t, int64_t, double*, T*, cudaStream_t);                     \
  template cudaError_t sum_partials<T>(const double*, int64_t, int64_t, T*, cudaStream_t);

// CPU kernels for ops/reduce.h. Contiguous inputs.
// Shape letters: rows = the product of the leading dims, n the last (reduced) dim.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// Σ_i x[i] for i < n in double, summed over fixed blocks and then the blocks in order, so the
// result is the same on any thread count.
template <typename T>
double sum_all(const T* x, int64_t n);

// Σ_i x[i]² in double, blocked like sum_all (for gradient norms).
template <typename T>
double sum_squares(const T* x, int64_t n);

// out[r] = Σ_j x[r, j] for x [rows, n], each row accumulated in double.
template <typename T>
void sum_last(const T* x, int64_t rows, int64_t n, T* out);

// out[r, j] = s * g[r] for out [rows, n]: spreads one gradient value per row over its n columns.
template <typename T>
void broadcast_last(const T* g, int64_t rows, int64_t n, T s, T* out);

}  // namespace mone::ops::cpu

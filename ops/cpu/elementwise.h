// CPU kernels for ops/elementwise.h. Contiguous inputs; `b` repeats every nb elements of `a`.
#pragma once

#include <cstdint>

#include "ops/op_types.h"

namespace mone::ops::cpu {

// out[i] = a[i % na] (op) b[i % nb] for i < n, where n = max(na, nb).
template <typename T>
void binary_forward(BinaryOp op, const T* a, int64_t na, const T* b, int64_t nb, T* out);

// out[j] = sum_r in[r * m + j] for j < m: sums rows of a [n/m, m] matrix.
template <typename T>
void sum_rows(const T* in, int64_t n, int64_t m, T* out);

// out[i] = s * a[i].
template <typename T>
void scale(const T* a, int64_t n, T s, T* out);

// out[i] = min(max(x[i], lo), hi).
template <typename T>
void clamp(const T* x, int64_t n, T lo, T hi, T* out);
// grad_x[i] = grad_out[i] if lo <= x[i] <= hi, else 0.
template <typename T>
void clamp_backward(const T* grad_out, const T* x, int64_t n, T lo, T hi, T* grad_x);

}  // namespace mone::ops::cpu

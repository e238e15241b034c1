// The two primitives of the gathered MoNE kernels: a dot product with, and a weighted sum of,
// rows picked by index from a row-major matrix. Everything the gathered forward and HARD
// backward compute with W_up, W_down and their gradients is one of the two (ops/cpu/mone_ffn.cpp).
//
// Shape letters: n picked rows, d the row length.
//
// The float versions run AVX2 + FMA code where the CPU has it (checked once, at run time, so the
// build still runs on any x86-64) and portable loops elsewhere; double (the gradchecks) always
// runs the portable loops.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// out[i] = rows[ids[i]] · v  for i < n  (rows [*, d], v [d]).
template <typename T>
void gather_dot(const T* rows, const int32_t* ids, int64_t n, const T* v, int64_t d, T* out);

// out = Σ_{i<n} coef[i] · rows[ids[i]]  (out [d], overwritten; the sum runs in order of i).
template <typename T>
void gather_axpy(const T* rows, const int32_t* ids, const T* coef, int64_t n, int64_t d, T* out);

// out[r] = Σ_{i<n} coef[i] · mat[r, ids[i]]  for r < rows  (mat [rows, cols], out [rows],
// overwritten): gather_axpy over the columns of mat, read in place. Each out[r] is summed in
// order of i with the same operations as gather_axpy(transpose of mat, ...)[r], so the two give
// the same bits; this one skips the transpose (reading and writing all of mat), which is what
// costs at a few rows per expert (decode). Needs cols <= 2^28.
template <typename T>
void gather_columns_axpy(const T* mat, int64_t rows, int64_t cols, const int32_t* ids, const T* coef, int64_t n,
                         T* out);

// out[i] = mat[:, ids[i]] · v  for i < n  (mat [rows, cols], v [rows]): gather_dot over the
// columns of mat, read in place, with the same operations (and bits) as gather_dot(transpose of
// mat, ...). Needs cols <= 2^28.
template <typename T>
void gather_columns_dot(const T* mat, int64_t rows, int64_t cols, const int32_t* ids, int64_t n, const T* v, T* out);

// out [cols, rows] = in [rows, cols]ᵀ.
template <typename T>
void transpose(const T* in, int64_t rows, int64_t cols, T* out);

}  // namespace mone::ops::cpu

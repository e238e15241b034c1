// The MoE family's GEMM: a thin row-major wrapper over cblas_sgemm / cblas_dgemm.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
//
// Kept local to the MoE/MoNE kernels (router, grouped_matmul, mone_ffn) so this family depends
// only on BLAS. Shapes: C [m, n] = alpha · op(A) · op(B) + beta · C, op(A) [m, k], op(B) [k, n].
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// trans_a: A is stored [k, m] (row-major, leading dimension lda) and used transposed.
// trans_b: B is stored [n, k] and used transposed. k == 0 gives C = beta · C.
template <typename T>
void moe_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Σ_i a[i] · b[i] over n contiguous elements (cblas_sdot / cblas_ddot).
template <typename T>
T moe_dot(const T* a, const T* b, int64_t n);

// y[i] += alpha · x[i] over n contiguous elements (cblas_saxpy / cblas_daxpy).
template <typename T>
void moe_axpy(int64_t n, T alpha, const T* x, T* y);

// y [rows, out] = x [rows, in] · wᵀ, with w [out, in] (a Linear layer's weight): beta picks = (0) or += (1).
template <typename T>
void moe_linear(const T* x, const T* w, int64_t rows, int64_t in, int64_t out, T beta, T* y) {
  moe_gemm<T>(false, true, rows, out, in, T(1), x, in, w, in, beta, y, out);
}

}  // namespace mone::ops::cpu

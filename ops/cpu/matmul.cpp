// GEMM through cblas. Shape letters (see ops/cpu/matmul.h): M, N output rows and columns, K
// contracted size, Bt batch.
#include "ops/cpu/matmul.h"

#include <cblas.h>

#include "core/status.h"
#include "ops/cpu/gemm_timer.h"

namespace mone::ops::cpu {

namespace {

// cblas takes 32-bit sizes; ops/matmul.cpp rejects anything larger before we get here.
blasint to_blas(int64_t v) {
  MONE_CHECK(v >= 0 && v <= INT32_MAX) << "gemm size " << v << " does not fit BLAS's int";
  return static_cast<blasint>(v);
}

void call_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, float alpha, const float* a,
               blasint lda, const float* b, blasint ldb, float beta, float* c, blasint ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void call_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, double alpha, const double* a,
               blasint lda, const double* b, blasint ldb, double beta, double* c, blasint ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // An empty sum: c = beta · c (BLAS may skip this, so do it here; beta = 0 overwrites).
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    }
    return;
  }
  // BLAS needs every leading dimension >= the stored row length (so rows do not overlap).
  MONE_CHECK_GE(lda, trans_a ? m : k);
  MONE_CHECK_GE(ldb, trans_b ? k : n);
  MONE_CHECK_GE(ldc, n);
  const bool timed = gemm_timing_enabled();
  const int64_t start = timed ? now_ns() : 0;
  call_gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, to_blas(m), to_blas(n),
            to_blas(k), alpha, a, to_blas(lda), b, to_blas(ldb), beta, c, to_blas(ldc));
  if (timed) add_gemm_time(start);
}

template <typename T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  int64_t lda, int64_t stride_a, const T* b, int64_t ldb, int64_t stride_b, T beta, T* c, int64_t ldc,
                  int64_t stride_c) {
  // One BLAS call per product: each is already multi-threaded inside OpenBLAS.
  for (int64_t i = 0; i < batch; ++i) {
    gemm<T>(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta, c + i * stride_c,
            ldc);
  }
}

#define MONE_INSTANTIATE(T)                                                                                       \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*,   \
                        int64_t);                                                                                 \
  template void gemm_batched<T>(int64_t, bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, int64_t,   \
                                const T*, int64_t, int64_t, T, T*, int64_t, int64_t);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

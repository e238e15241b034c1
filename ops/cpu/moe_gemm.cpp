// Definitions and contracts: ops/cpu/moe_gemm.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/cpu/moe_gemm.h"

#include <cblas.h>

#include "ops/cpu/matmul.h"

namespace mone::ops::cpu {

// The MoE kernels' GEMM is the one GEMM of ops/cpu/matmul (BLAS, with the empty-sum case).
template <typename T>
void moe_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  gemm<T>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
template void moe_gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                              int64_t, float, float*, int64_t);
template void moe_gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                               const double*, int64_t, double, double*, int64_t);

template <>
float moe_dot<float>(const float* a, const float* b, int64_t n) {
  return cblas_sdot(n, a, 1, b, 1);
}

template <>
double moe_dot<double>(const double* a, const double* b, int64_t n) {
  return cblas_ddot(n, a, 1, b, 1);
}

template <>
void moe_axpy<float>(int64_t n, float alpha, const float* x, float* y) {
  cblas_saxpy(n, alpha, x, 1, y, 1);
}

template <>
void moe_axpy<double>(int64_t n, double alpha, const double* x, double* y) {
  cblas_daxpy(n, alpha, x, 1, y, 1);
}

}  // namespace mone::ops::cpu

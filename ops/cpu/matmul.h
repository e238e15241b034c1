// CPU kernels for ops/matmul.h: GEMM through OpenBLAS (cblas), for float and double.
//
// Shape letters: M rows of the output, N its columns, K the contracted size, Bt a batch of
// independent products. Matrices are row-major with a leading dimension (the stride between rows),
// so views such as one head's columns of a [T, H·hd] activation are read in place.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// c = alpha · op(a) · op(b) + beta · c, where op(a) is [M, K] (a stored [K, M] when trans_a),
// op(b) is [K, N] (b stored [N, K] when trans_b), c is [M, N]; lda/ldb/ldc are row strides.
// With beta = 0, c is overwritten and its old contents (even NaN) are ignored.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);

// Bt independent gemms; operand i starts at a + i·stride_a (likewise b, c).
template <typename T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  int64_t lda, int64_t stride_a, const T* b, int64_t ldb, int64_t stride_b, T beta, T* c, int64_t ldc,
                  int64_t stride_c);

}  // namespace mone::ops::cpu

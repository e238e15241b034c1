// Definitions and contracts: ops/cpu/cross_entropy.h.
// Shape letters: N rows, V the vocabulary (a row's length).
//
// A row's logsumexp (ops/cpu/rows.h) and its softmax gradient take nearly all the time: V
// exponentials each way. double (the gradchecks), and float on CPUs without AVX2, run scalar
// loops (libm's exp); float with AVX2 + FMA runs eight lanes of vec_exp.h's exp8.
#include "ops/cpu/cross_entropy.h"

#include <cmath>
#include <type_traits>

#include "ops/cpu/cpu_features.h"
#include "ops/cpu/rows.h"
#include "ops/cpu/vec_exp.h"

namespace mone::ops::cpu {

namespace {

// out[v] = (exp(row[v] − lse) − [v = t]) · scale.
__attribute__((target("avx2,fma"))) void softmax_grad_avx2(const float* row, int64_t V, float lse, int64_t t,
                                                           float scale, float* out) {
  const __m256 shift = _mm256_set1_ps(lse), s = _mm256_set1_ps(scale);
  const __m256i target = _mm256_set1_epi32(static_cast<int>(t));
  const __m256i step = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t v = 0; v < V; v += 8) {
    const int64_t rem = V - v;
    const __m256 p = avx2::exp8(_mm256_sub_ps(avx2::load8(row + v, rem), shift));
    const __m256i index = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(v)), step);
    const __m256 one_hot = _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(index, target)), _mm256_set1_ps(1.0f));
    avx2::store8(out + v, _mm256_mul_ps(_mm256_sub_ps(p, one_hot), s), rem);
  }
}

template <typename T>
void row_softmax_grad(const T* row, int64_t V, T lse, int64_t t, double scale, T* out) {
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx2_fma()) return softmax_grad_avx2(row, V, lse, t, static_cast<float>(scale), out);
  }
  for (int64_t v = 0; v < V; ++v) {
    const double p = std::exp(static_cast<double>(row[v]) - static_cast<double>(lse));
    out[v] = static_cast<T>((p - (v == t ? 1.0 : 0.0)) * scale);
  }
}

}  // namespace

template <typename T>
void cross_entropy_forward(const T* logits, const int64_t* targets, int64_t N, int64_t V, int64_t ignore_index,
                           T* lse, double* row_loss) {
#pragma omp parallel for schedule(static) if (N * V > 16384)
  for (int64_t r = 0; r < N; ++r) {
    const T* row = logits + r * V;
    // -log softmax(row)[t] = lse - row[t].
    const double l = row_logsumexp(row, V);
    lse[r] = static_cast<T>(l);
    row_loss[r] = targets[r] == ignore_index ? 0.0 : l - static_cast<double>(row[targets[r]]);
  }
}

template <typename T>
void cross_entropy_backward(const T* logits, const int64_t* targets, const T* lse, int64_t N, int64_t V,
                            int64_t ignore_index, double scale, T* grad_logits) {
#pragma omp parallel for schedule(static) if (N * V > 16384)
  for (int64_t r = 0; r < N; ++r) {
    T* out = grad_logits + r * V;
    if (targets[r] == ignore_index) {
      for (int64_t v = 0; v < V; ++v) out[v] = T(0);
      continue;
    }
    // d loss / d logits[r, v] = (softmax_v - [v = t]) / C.
    row_softmax_grad(logits + r * V, V, lse[r], targets[r], scale, out);
  }
}

#define MONE_INSTANTIATE(T)                                                                                  \
  template void cross_entropy_forward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*, double*);  \
  template void cross_entropy_backward<T>(const T*, const int64_t*, const T*, int64_t, int64_t, int64_t,     \
                                          double, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

// Definitions and contracts: ops/cpu/rows.h.
// Shape letters: n the row's length.
#include "ops/cpu/rows.h"

#include <cmath>
#include <type_traits>

#include "ops/cpu/cpu_features.h"
#include "ops/cpu/math.h"
#include "ops/cpu/vec_exp.h"

namespace mone::ops::cpu {

namespace {

// max_j x_j over eight lanes that all start from x[0] (a partial last group is filled with it),
// so that, as in math.h, a NaN first element stays the max and a NaN elsewhere is passed over.
__attribute__((target("avx2,fma"))) float max_avx2(const float* x, int64_t n) {
  __m256 m8 = _mm256_set1_ps(x[0]);
  for (int64_t j = 0; j < n; j += 8) m8 = _mm256_max_ps(avx2::load8(x + j, n - j, x[0]), m8);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m8);
  float m = lanes[0];
  for (int i = 1; i < 8; ++i) m = std::isnan(m) ? m : (lanes[i] > m ? lanes[i] : m);
  return m;
}

// Σ_j exp(x_j − shift) in double (four double lanes per half, added pairwise at the end); with
// p, the exponentials are stored there too.
__attribute__((target("avx2,fma"))) double sum_exp_avx2(const float* x, int64_t n, float shift, float* p) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  for (int64_t j = 0; j < n; j += 8) {
    const int64_t rem = n - j;
    __m256 e = avx2::exp8(_mm256_sub_ps(avx2::load8(x + j, rem), s));
    if (p != nullptr) avx2::store8(p + j, e, rem);
    if (rem < 8) e = _mm256_and_ps(e, _mm256_castsi256_ps(avx2::tail_mask(rem)));  // the missing lanes add 0
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  alignas(32) double sums[4];
  _mm256_store_pd(sums, _mm256_add_pd(lo, hi));
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

__attribute__((target("avx2,fma"))) void exp_avx2(const float* x, int64_t n, float shift, float* out) {
  const __m256 s = _mm256_set1_ps(shift);
  for (int64_t j = 0; j < n; j += 8) {
    avx2::store8(out + j, avx2::exp8(_mm256_sub_ps(avx2::load8(x + j, n - j), s)), n - j);
  }
}

__attribute__((target("avx2,fma"))) void scale_avx2(float* p, int64_t n, float by) {
  const __m256 b = _mm256_set1_ps(by);
  for (int64_t j = 0; j < n; j += 8) avx2::store8(p + j, _mm256_mul_ps(avx2::load8(p + j, n - j), b), n - j);
}

}  // namespace

template <typename T>
double row_logsumexp(const T* x, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx2_fma()) {
      const float m = max_avx2(x, n);
      if (std::isinf(m)) return m;
      return static_cast<double>(m) + std::log(sum_exp_avx2(x, n, m, nullptr));
    }
  }
  return logsumexp(x, n);
}

template <typename T>
double row_softmax(const T* x, int64_t n, T* p) {
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx2_fma()) {
      const float m = max_avx2(x, n);
      const double sum = sum_exp_avx2(x, n, m, p);
      scale_avx2(p, n, static_cast<float>(1.0 / sum));
      return static_cast<double>(m) + std::log(sum);
    }
  }
  return softmax(x, n, p);
}

template <typename T>
void row_exp_shifted(const T* x, int64_t n, T shift, T* out) {
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx2_fma()) return exp_avx2(x, n, shift, out);
  }
  for (int64_t j = 0; j < n; ++j) out[j] = std::exp(x[j] - shift);
}

#define MONE_INSTANTIATE(T)                                           \
  template double row_logsumexp<T>(const T*, int64_t);                \
  template double row_softmax<T>(const T*, int64_t, T*);              \
  template void row_exp_shifted<T>(const T*, int64_t, T, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

#include "ops/cpu/embedding.h"

#include <algorithm>
#include <cstring>

namespace mone::ops::cpu {

template <typename T>
void embedding_forward(const T* weight, const int64_t* ids, int64_t n, int64_t d, T* out) {
#pragma omp parallel for schedule(static) if (n * d > 32768)
  for (int64_t p = 0; p < n; ++p) std::memcpy(out + p * d, weight + ids[p] * d, d * sizeof(T));
}

template <typename T>
void embedding_backward(const T* grad_out, const int64_t* ids, int64_t n, int64_t V, int64_t d, T* grad_weight) {
  std::fill(grad_weight, grad_weight + V * d, T(0));
  constexpr int64_t kCols = 64;  // columns per task: 16 tasks for d = 1024
  const int64_t blocks = (d + kCols - 1) / kCols;
#pragma omp parallel for schedule(static) if (n * d > 32768)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kCols, c1 = std::min(d, c0 + kCols);
    for (int64_t p = 0; p < n; ++p) {
      const T* g = grad_out + p * d;
      T* w = grad_weight + ids[p] * d;
      for (int64_t c = c0; c < c1; ++c) w[c] += g[c];
    }
  }
}

#define MONE_INSTANTIATE(T)                                                          \
  template void embedding_forward<T>(const T*, const int64_t*, int64_t, int64_t, T*); \
  template void embedding_backward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

#include "ops/cpu/elementwise.h"

#include <algorithm>
#include <vector>

namespace mone::ops::cpu {

template <typename T>
void binary_forward(BinaryOp op, const T* a, int64_t na, const T* b, int64_t nb, T* out) {
  const int64_t n = std::max(na, nb);
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const T x = a[i % na], y = b[i % nb];
    switch (op) {
      case BinaryOp::kAdd: out[i] = x + y; break;
      case BinaryOp::kSub: out[i] = x - y; break;
      case BinaryOp::kMul: out[i] = x * y; break;
    }
  }
}

template <typename T>
void sum_rows(const T* in, int64_t n, int64_t m, T* out) {
  const int64_t rows = m == 0 ? 0 : n / m;
  // Accumulate in double for f32 too: these sums feed gradients of broadcast operands.
  std::vector<double> acc(m, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = in + r * m;
    for (int64_t j = 0; j < m; ++j) acc[j] += row[j];
  }
  for (int64_t j = 0; j < m; ++j) out[j] = static_cast<T>(acc[j]);
}

template <typename T>
void scale(const T* a, int64_t n, T s, T* out) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) out[i] = s * a[i];
}

#define MONE_INSTANTIATE(T)                                                            \
  template void binary_forward<T>(BinaryOp, const T*, int64_t, const T*, int64_t, T*); \
  template void sum_rows<T>(const T*, int64_t, int64_t, T*);                           \
  template void scale<T>(const T*, int64_t, T, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

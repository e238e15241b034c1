#include "ops/cpu/reduce.h"

#include <algorithm>
#include <vector>

namespace mone::ops::cpu {

namespace {
// Σ_i f(x[i]) in double over fixed blocks of 4096, then the block sums in order: the blocks do
// not depend on the thread count, so neither does the result. Inside a block, four running sums
// take every fourth element (four independent chains of additions instead of one), added
// pairwise at the end.
template <typename T, typename F>
double blocked_sum(const T* x, int64_t n, F f) {
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(blocks, 0.0);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = std::min(n, (b + 1) * kBlock);
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t i = b * kBlock;
    for (; i + 4 <= end; i += 4) {
      s0 += f(static_cast<double>(x[i]));
      s1 += f(static_cast<double>(x[i + 1]));
      s2 += f(static_cast<double>(x[i + 2]));
      s3 += f(static_cast<double>(x[i + 3]));
    }
    for (; i < end; ++i) s0 += f(static_cast<double>(x[i]));
    partial[b] = (s0 + s1) + (s2 + s3);
  }
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}
}  // namespace

template <typename T>
double sum_all(const T* x, int64_t n) {
  return blocked_sum(x, n, [](double v) { return v; });
}

template <typename T>
double sum_squares(const T* x, int64_t n) {
  return blocked_sum(x, n, [](double v) { return v * v; });
}

template <typename T>
void sum_last(const T* x, int64_t rows, int64_t n, T* out) {
#pragma omp parallel for schedule(static) if (rows * n > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * n;
    double s = 0.0;
    for (int64_t j = 0; j < n; ++j) s += row[j];
    out[r] = static_cast<T>(s);
  }
}

template <typename T>
void broadcast_last(const T* g, int64_t rows, int64_t n, T s, T* out) {
  // One flat loop, so a single row (sum/mean backward) is parallel too.
  const int64_t total = rows * n;
#pragma omp parallel for schedule(static) if (total > 32768)
  for (int64_t i = 0; i < total; ++i) out[i] = s * g[i / n];
}

#define MONE_INSTANTIATE(T)                                       \
  template double sum_all<T>(const T*, int64_t);                  \
  template double sum_squares<T>(const T*, int64_t);              \
  template void sum_last<T>(const T*, int64_t, int64_t, T*);      \
  template void broadcast_last<T>(const T*, int64_t, int64_t, T, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

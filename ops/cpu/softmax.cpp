#include "ops/cpu/softmax.h"

#include <cmath>

#include "ops/cpu/math.h"

namespace mone::ops::cpu {

template <typename T>
void softmax_forward(const T* x, int64_t rows, int64_t n, bool log, T* y) {
#pragma omp parallel for schedule(static) if (rows * n > 16384)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    // softmax = exp(x - lse), log_softmax = x - lse.
    const double lse = logsumexp(xr, n);
    for (int64_t j = 0; j < n; ++j) {
      const double z = static_cast<double>(xr[j]) - lse;
      yr[j] = static_cast<T>(log ? z : std::exp(z));
    }
  }
}

template <typename T>
void softmax_backward(const T* grad_out, const T* y, int64_t rows, int64_t n, bool log, T* grad_x) {
#pragma omp parallel for schedule(static) if (rows * n > 16384)
  for (int64_t r = 0; r < rows; ++r) {
    const T* gr = grad_out + r * n;
    const T* yr = y + r * n;
    T* out = grad_x + r * n;
    if (log) {
      // d log_softmax: grad_x = g - softmax · Σ g.
      double sg = 0.0;
      for (int64_t j = 0; j < n; ++j) sg += gr[j];
      for (int64_t j = 0; j < n; ++j) out[j] = static_cast<T>(gr[j] - std::exp(static_cast<double>(yr[j])) * sg);
    } else {
      // d softmax: grad_x = y ⊙ (g - <g, y>).
      double dot = 0.0;
      for (int64_t j = 0; j < n; ++j) dot += static_cast<double>(gr[j]) * yr[j];
      for (int64_t j = 0; j < n; ++j) out[j] = static_cast<T>(yr[j] * (gr[j] - dot));
    }
  }
}

#define MONE_INSTANTIATE(T)                                                            \
  template void softmax_forward<T>(const T*, int64_t, int64_t, bool, T*);              \
  template void softmax_backward<T>(const T*, const T*, int64_t, int64_t, bool, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

#include "ops/cpu/cross_entropy.h"

#include <cmath>

#include "ops/cpu/math.h"

namespace mone::ops::cpu {

template <typename T>
void cross_entropy_forward(const T* logits, const int64_t* targets, int64_t N, int64_t V, int64_t ignore_index,
                           T* lse, double* row_loss) {
#pragma omp parallel for schedule(static) if (N * V > 16384)
  for (int64_t r = 0; r < N; ++r) {
    const T* row = logits + r * V;
    // -log softmax(row)[t] = lse - row[t].
    const double l = logsumexp(row, V);
    lse[r] = static_cast<T>(l);
    row_loss[r] = targets[r] == ignore_index ? 0.0 : l - static_cast<double>(row[targets[r]]);
  }
}

template <typename T>
void cross_entropy_backward(const T* logits, const int64_t* targets, const T* lse, int64_t N, int64_t V,
                            int64_t ignore_index, double scale, T* grad_logits) {
#pragma omp parallel for schedule(static) if (N * V > 16384)
  for (int64_t r = 0; r < N; ++r) {
    const T* row = logits + r * V;
    T* out = grad_logits + r * V;
    const int64_t t = targets[r];
    if (t == ignore_index) {
      for (int64_t v = 0; v < V; ++v) out[v] = T(0);
      continue;
    }
    // d loss / d logits[r, v] = (softmax_v - [v = t]) / C.
    const double l = lse[r];
    for (int64_t v = 0; v < V; ++v) {
      const double p = std::exp(static_cast<double>(row[v]) - l);
      out[v] = static_cast<T>((p - (v == t ? 1.0 : 0.0)) * scale);
    }
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

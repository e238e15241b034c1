#include "ops/cpu/optim.h"

#include <cmath>

namespace mone::ops::cpu {

template <typename T>
void scale_in_place(T* g, int64_t n, double s) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) g[i] = static_cast<T>(g[i] * s);
}

template <typename T>
void adamw_step(T* param, const T* grad, T* m, T* v, int64_t n, double lr, double beta1, double beta2, double eps,
                double weight_decay, double bias1, double bias2) {
  // m̂ / (sqrt(v̂) + eps) with m̂ = m / bias1, v̂ = v / bias2, rearranged so that the loop does one
  // division and one square root per element: (lr / bias1) · m / (sqrt(v) / sqrt(bias2) + eps).
  const double step_size = lr / bias1, inv_sqrt_bias2 = 1.0 / std::sqrt(bias2), decay = 1.0 - lr * weight_decay;
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const double g = grad[i];
    double w = param[i] * decay;  // decoupled: the decay never enters m or v
    const double mi = beta1 * m[i] + (1.0 - beta1) * g;
    const double vi = beta2 * v[i] + (1.0 - beta2) * g * g;
    w -= step_size * mi / (std::sqrt(vi) * inv_sqrt_bias2 + eps);
    m[i] = static_cast<T>(mi);
    v[i] = static_cast<T>(vi);
    param[i] = static_cast<T>(w);
  }
}

#define MONE_INSTANTIATE(T)                                                                              \
  template void scale_in_place<T>(T*, int64_t, double);                                                  \
  template void adamw_step<T>(T*, const T*, T*, T*, int64_t, double, double, double, double, double, double, \
                              double);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

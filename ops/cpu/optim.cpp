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
                double weight_decay, double bias1, double bias2, double grad_scale) {
  // m̂ / (sqrt(v̂) + eps) with m̂ = m / bias1, v̂ = v / bias2, rearranged so that the loop does one
  // division and one square root per element: (lr / bias1) · m / (sqrt(v) / sqrt(bias2) + eps).
  // The arithmetic runs in T (f32 for training, so the loop vectorises; f64 for gradchecks).
  const T step_size = static_cast<T>(lr / bias1), inv_sqrt_bias2 = static_cast<T>(1.0 / std::sqrt(bias2));
  const T decay = static_cast<T>(1.0 - lr * weight_decay), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
  const T c1 = static_cast<T>(1.0 - beta1), c2 = static_cast<T>(1.0 - beta2), e = static_cast<T>(eps);
  const T gs = static_cast<T>(grad_scale);
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const T g = gs * grad[i];
    const T mi = b1 * m[i] + c1 * g;
    const T vi = b2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    // decoupled: the decay never enters m or v
    param[i] = param[i] * decay - step_size * mi / (std::sqrt(vi) * inv_sqrt_bias2 + e);
  }
}

#define MONE_INSTANTIATE(T)                                                                              \
  template void scale_in_place<T>(T*, int64_t, double);                                                  \
  template void adamw_step<T>(T*, const T*, T*, T*, int64_t, double, double, double, double, double, double, \
                              double, double);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

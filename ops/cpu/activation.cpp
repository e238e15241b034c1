#include "ops/cpu/activation.h"

#include "ops/cpu/math.h"

namespace mone::ops::cpu {

template <typename T>
void activation_forward(Activation act, const T* x, int64_t n, T* y) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const T s = sigmoid(x[i]);
    y[i] = act == Activation::kSigmoid ? s : x[i] * s;
  }
}

template <typename T>
void activation_backward(Activation act, const T* grad_out, const T* in, int64_t n, T* grad_x) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const T d = act == Activation::kSigmoid ? in[i] * (T(1) - in[i]) : silu_grad(in[i], sigmoid(in[i]));
    grad_x[i] = grad_out[i] * d;
  }
}

template <typename T>
void swiglu_forward(const T* gate, const T* up, int64_t n, T* y) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) y[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

template <typename T>
void swiglu_backward(const T* grad_out, const T* gate, const T* up, int64_t n, T* grad_gate, T* grad_up) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const T s = sigmoid(gate[i]);
    grad_gate[i] = grad_out[i] * up[i] * silu_grad(gate[i], s);
    grad_up[i] = grad_out[i] * gate[i] * s;
  }
}

#define MONE_INSTANTIATE(T)                                                               \
  template void activation_forward<T>(Activation, const T*, int64_t, T*);                 \
  template void activation_backward<T>(Activation, const T*, const T*, int64_t, T*);      \
  template void swiglu_forward<T>(const T*, const T*, int64_t, T*);                       \
  template void swiglu_backward<T>(const T*, const T*, const T*, int64_t, T*, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

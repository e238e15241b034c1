// Definitions and contracts: ops/cpu/activation.h.
// Shape letters: n the element count.
//
// Each kernel has a scalar loop (math.h: double, and float on CPUs without AVX2) and, for float, an
// eight-lane loop over vec_exp.h's exp8 and sigmoid8. Both run over fixed chunks of the array, in
// parallel for large n; every element is computed on its own, so no result depends on the thread
// count.
#include "ops/cpu/activation.h"

#include <algorithm>
#include <type_traits>

#include "ops/cpu/cpu_features.h"
#include "ops/cpu/math.h"
#include "ops/cpu/vec_exp.h"

namespace mone::ops::cpu {

namespace {

constexpr int64_t kChunk = 8192;      // elements per task (a multiple of 8)
constexpr int64_t kParallel = 32768;  // below this many elements, one thread

// body(begin, end) over [0, n) in chunks, in parallel above kParallel elements.
template <typename Body>
void for_chunks(int64_t n, const Body& body) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n > kParallel)
  for (int64_t c = 0; c < chunks; ++c) body(c * kChunk, std::min(n, (c + 1) * kChunk));
}

// ---- scalar loops ----------------------------------------------------------------------------

template <typename T>
void forward_scalar(Activation act, const T* x, int64_t begin, int64_t end, T* y) {
  for (int64_t i = begin; i < end; ++i) y[i] = activation(act, x[i]);
}

template <typename T>
void backward_scalar(Activation act, const T* grad_out, const T* in, int64_t begin, int64_t end, T* grad_x) {
  for (int64_t i = begin; i < end; ++i) {
    const T d = act == Activation::kSigmoid ? in[i] * (T(1) - in[i]) : silu_grad(in[i], sigmoid(in[i]));
    grad_x[i] = grad_out[i] * d;
  }
}

template <typename T>
void swiglu_forward_scalar(const T* gate, const T* up, int64_t begin, int64_t end, T* y) {
  for (int64_t i = begin; i < end; ++i) y[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

template <typename T>
void swiglu_backward_scalar(const T* grad_out, const T* gate, const T* up, int64_t begin, int64_t end, T* grad_gate,
                            T* grad_up) {
  for (int64_t i = begin; i < end; ++i) {
    const T s = sigmoid(gate[i]);
    grad_gate[i] = grad_out[i] * up[i] * silu_grad(gate[i], s);
    grad_up[i] = grad_out[i] * gate[i] * s;
  }
}

// ---- eight lanes (float, AVX2 + FMA) ---------------------------------------------------------
// The same formulas as the scalar loops, in the same order of operations.

__attribute__((target("avx2,fma"))) void forward_avx2(Activation act, const float* x, int64_t begin, int64_t end,
                                                      float* y) {
  for (int64_t i = begin; i < end; i += 8) {
    const __m256 v = avx2::load8(x + i, end - i);
    const __m256 s = avx2::sigmoid8(v);
    avx2::store8(y + i, act == Activation::kSigmoid ? s : _mm256_mul_ps(v, s), end - i);
  }
}

__attribute__((target("avx2,fma"))) void backward_avx2(Activation act, const float* grad_out, const float* in,
                                                       int64_t begin, int64_t end, float* grad_x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = begin; i < end; i += 8) {
    const __m256 v = avx2::load8(in + i, end - i);
    const __m256 d = act == Activation::kSigmoid ? _mm256_mul_ps(v, _mm256_sub_ps(one, v))
                                                 : avx2::silu_grad8(v, avx2::sigmoid8(v));
    avx2::store8(grad_x + i, _mm256_mul_ps(avx2::load8(grad_out + i, end - i), d), end - i);
  }
}

__attribute__((target("avx2,fma"))) void swiglu_forward_avx2(const float* gate, const float* up, int64_t begin,
                                                             int64_t end, float* y) {
  for (int64_t i = begin; i < end; i += 8) {
    const __m256 g = avx2::load8(gate + i, end - i);
    const __m256 silu = _mm256_mul_ps(g, avx2::sigmoid8(g));
    avx2::store8(y + i, _mm256_mul_ps(silu, avx2::load8(up + i, end - i)), end - i);
  }
}

__attribute__((target("avx2,fma"))) void swiglu_backward_avx2(const float* grad_out, const float* gate,
                                                              const float* up, int64_t begin, int64_t end,
                                                              float* grad_gate, float* grad_up) {
  for (int64_t i = begin; i < end; i += 8) {
    const int64_t rem = end - i;
    const __m256 g = avx2::load8(gate + i, rem), u = avx2::load8(up + i, rem), go = avx2::load8(grad_out + i, rem);
    const __m256 s = avx2::sigmoid8(g);
    avx2::store8(grad_gate + i, _mm256_mul_ps(_mm256_mul_ps(go, u), avx2::silu_grad8(g, s)), rem);
    avx2::store8(grad_up + i, _mm256_mul_ps(_mm256_mul_ps(go, g), s), rem);
  }
}

}  // namespace

template <typename T>
void activation_forward(Activation act, const T* x, int64_t n, T* y) {
  for_chunks(n, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<T, float>) {
      if (has_avx2_fma()) return forward_avx2(act, x, b, e, y);
    }
    forward_scalar(act, x, b, e, y);
  });
}

template <typename T>
void activation_backward(Activation act, const T* grad_out, const T* in, int64_t n, T* grad_x) {
  for_chunks(n, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<T, float>) {
      if (has_avx2_fma()) return backward_avx2(act, grad_out, in, b, e, grad_x);
    }
    backward_scalar(act, grad_out, in, b, e, grad_x);
  });
}

template <typename T>
void swiglu_forward(const T* gate, const T* up, int64_t n, T* y) {
  for_chunks(n, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<T, float>) {
      if (has_avx2_fma()) return swiglu_forward_avx2(gate, up, b, e, y);
    }
    swiglu_forward_scalar(gate, up, b, e, y);
  });
}

template <typename T>
void swiglu_backward(const T* grad_out, const T* gate, const T* up, int64_t n, T* grad_gate, T* grad_up) {
  for_chunks(n, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<T, float>) {
      if (has_avx2_fma()) return swiglu_backward_avx2(grad_out, gate, up, b, e, grad_gate, grad_up);
    }
    swiglu_backward_scalar(grad_out, gate, up, b, e, grad_gate, grad_up);
  });
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

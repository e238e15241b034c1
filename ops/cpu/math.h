// The small math every CPU kernel shares, written once: the stable sigmoid, silu and the
// activations' derivatives, a row's logsumexp and softmax, and the top-k order.
//
// Shape letters: n the length of one row.
//
// The top-k order (the one order of every selection in mone: ops/topk, the router's top-K, the
// MoNE neuron top-K_N): i comes before j when its value is larger; NaN comes before everything;
// equal values go to the lower index. A strict total order, so a selection is unique.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ops/op_types.h"

namespace mone::ops::cpu {

// σ(x) without overflow: e^-|x| never exceeds 1.
template <typename T>
inline T sigmoid(T x) {
  const T e = std::exp(-std::abs(x));
  return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// silu'(x) = σ(x) + x σ(x) (1 − σ(x)) = σ(x) (1 + x (1 − σ(x))), given s = σ(x).
template <typename T>
inline T silu_grad(T x, T s) {
  return s * (T(1) + x * (T(1) - s));
}

// act(a): silu(a) = a σ(a), or σ(a).
template <typename T>
inline T activation(Activation act, T a) {
  const T s = sigmoid(a);
  return act == Activation::kSilu ? a * s : s;
}

// act'(a) from the input a: silu' above, σ' = σ (1 − σ).
template <typename T>
inline T activation_grad(Activation act, T a) {
  const T s = sigmoid(a);
  return act == Activation::kSilu ? silu_grad(a, s) : s * (T(1) - s);
}

// log Σ_j exp(x_j) over n > 0 elements: the max subtracted, summed in double. All −inf gives −inf,
// any +inf gives +inf.
template <typename T>
inline double logsumexp(const T* x, int64_t n) {
  double m = static_cast<double>(x[0]);
  for (int64_t j = 1; j < n; ++j) m = std::max(m, static_cast<double>(x[j]));
  if (std::isinf(m)) return m;
  double s = 0.0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(static_cast<double>(x[j]) - m);
  return m + std::log(s);
}

// p = softmax(x) over n > 0 finite elements (p may alias x); returns logsumexp(x). The max is
// subtracted, the exponentials taken in T and summed in double.
template <typename T>
inline double softmax(const T* x, int64_t n, T* p) {
  T m = x[0];
  for (int64_t j = 1; j < n; ++j) m = std::max(m, x[j]);
  double sum = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    p[j] = std::exp(x[j] - m);
    sum += p[j];
  }
  const T inv = static_cast<T>(1.0 / sum);
  for (int64_t j = 0; j < n; ++j) p[j] *= inv;
  return static_cast<double>(m) + std::log(sum);
}

// "i comes before j" in the top-k order over the values x.
template <typename T>
struct TopkBefore {
  const T* x;
  bool operator()(int64_t i, int64_t j) const {
    const bool ni = std::isnan(x[i]), nj = std::isnan(x[j]);
    if (ni != nj) return ni;
    if (!ni && x[i] != x[j]) return x[i] > x[j];
    return i < j;
  }
};

// An unsigned key that orders like |v| in the top-k order: the IEEE bits of a non-negative float
// are monotone in its value, and every NaN maps to one key above +inf's, so that with "larger key
// first, then the lower index" a selection by key is the top-k order on |v|. Keys keep the top
// bit clear (as every |v| does).
template <typename T>
inline auto abs_order_key(T v) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  if (std::isnan(v)) return static_cast<Bits>(std::numeric_limits<Bits>::max() >> 1);
  const T a = std::abs(v);
  Bits b;
  std::memcpy(&b, &a, sizeof(T));
  return b;
}

}  // namespace mone::ops::cpu

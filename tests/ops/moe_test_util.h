// Helpers shared by the MoE / MoNE op tests (router, dispatch, grouped matmul, mone_ffn, losses).
#pragma once

#include <algorithm>
#include <numeric>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "ops/op_types.h"

namespace mone::moe_test {

inline autograd::Variable param(const Tensor& t, const char* name) { return autograd::Variable(t, true, name); }

// max_i |a_i − b_i| / (1 + |b_i|), over two CPU tensors of one shape (any float or index dtype).
inline double max_rel_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  double m = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = read_as_double(a, i), y = read_as_double(b, i);
    m = std::max(m, std::abs(x - y) / (1.0 + std::abs(y)));
  }
  return m;
}

inline bool mentions(const Status& s, const std::string& what) {
  return std::string(s.message()).find(what) != std::string::npos;
}

// Over the rows of scores [rows, n], the smallest gap between the k-th and (k+1)-th largest
// value (of |value| when by_abs): how far each row's top-k selection is from a tie.
inline double topk_margin(const Tensor& scores, int64_t k, bool by_abs) {
  const int64_t rows = scores.size(0), n = scores.size(1);
  if (k >= n) return std::numeric_limits<double>::infinity();
  double m = std::numeric_limits<double>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> v(n);
    for (int64_t j = 0; j < n; ++j) {
      v[j] = read_as_double(scores, r * n + j);
      if (by_abs) v[j] = std::abs(v[j]);
    }
    std::sort(v.begin(), v.end(), std::greater<double>());
    m = std::min(m, v[k - 1] - v[k]);
  }
  return m;
}

// min_i |t_i|: how far the values are from the kink of |·| at 0.
inline double min_abs(const Tensor& t) {
  double m = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < t.numel(); ++i) m = std::min(m, std::abs(read_as_double(t, i)));
  return m;
}

// One expert's inputs: x [T, d], w_gate [D, d], w_up [D, d], w_down [d, D].
struct ExpertInputs {
  Tensor x, w_gate, w_up, w_down;
};

inline ExpertInputs draw_expert(Generator& gen, int64_t tokens, int64_t d, int64_t d_expert, DType dtype) {
  const double s = 1.0 / std::sqrt(static_cast<double>(d));
  return {randn({tokens, d}, dtype, gen), randn({d_expert, d}, dtype, gen, 0.0, 3 * s),
          randn({d_expert, d}, dtype, gen, 0.0, s), randn({d, d_expert}, dtype, gen, 0.0, s)};
}

// G = act(x W_gateᵀ) by loops (the tests' reference).
inline Tensor reference_gate(const ExpertInputs& in, ops::Activation act) {
  const int64_t tokens = in.x.size(0), d = in.x.size(1), d_expert = in.w_gate.size(0);
  Tensor g = Tensor::zeros({tokens, d_expert}, DType::kF64);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t j = 0; j < d_expert; ++j) {
      double a = 0.0;
      for (int64_t c = 0; c < d; ++c) a += read_as_double(in.x, t * d + c) * read_as_double(in.w_gate, j * d + c);
      const double sig = 1.0 / (1.0 + std::exp(-a));
      g.data<double>()[t * d_expert + j] = act == ops::Activation::kSilu ? a * sig : sig;
    }
  }
  return g;
}

// Draws expert inputs until every row's top-k_n |G| selection is at least `margin` from a tie and
// no |G| is within `margin` of 0, so finite differences never cross a selection or |·| kink.
inline ExpertInputs draw_expert_with_margin(uint64_t seed, int64_t tokens, int64_t d, int64_t d_expert, int64_t k_n,
                                            ops::Activation act, DType dtype, double margin = 1e-3) {
  for (uint64_t attempt = 0;; ++attempt) {
    Generator gen(seed * 1000 + attempt);
    ExpertInputs in = draw_expert(gen, tokens, d, d_expert, dtype);
    const Tensor g = reference_gate(in, act);
    if (topk_margin(g, k_n, true) > margin && min_abs(g) > margin) return in;
  }
}

}  // namespace mone::moe_test

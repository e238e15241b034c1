// Helpers shared by the MoE / MoNE op tests (router, dispatch, mone_ffn, losses), and MONE.md's
// expert written as loops: the reference the expert op is checked against.
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
#include "ops/router.h"

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

// expert_ids [N, K] i32: K distinct experts in [0, E) per token, drawn at random, like a router's top-K.
inline Tensor random_ids(Generator& gen, int64_t n, int64_t k, int64_t e) {
  std::vector<int32_t> v;
  for (int64_t t = 0; t < n; ++t) {
    std::vector<int32_t> pool(e);
    std::iota(pool.begin(), pool.end(), 0);
    for (int64_t s = 0; s < k; ++s) {
      const int64_t pick = s + static_cast<int64_t>(gen.uniform() * (e - s));
      std::swap(pool[s], pool[pick]);
      v.push_back(pool[s]);
    }
  }
  return value_or_die(Tensor::from_vector(v, {n, k}));
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

// Router inputs x [n, d], w_router [e, d] whose top-k selection is more than `margin` from a tie
// in every row: in p, or in the logits with on_logits (a relative margin in p, for bf16).
inline std::pair<Tensor, Tensor> draw_router(uint64_t seed, int64_t n, int64_t d, int64_t e, int64_t k, DType dtype,
                                             double margin = 1e-4, bool on_logits = false) {
  for (uint64_t attempt = 0;; ++attempt) {
    Generator gen(seed * 1000 + attempt);
    Tensor x = randn({n, d}, dtype, gen), w = randn({e, d}, dtype, gen);
    const auto f = value_or_die(ops::router_forward(x, w, k, false));
    if (topk_margin(on_logits ? f.logits : f.probs, k, false) > margin) return {x, w};
  }
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

using ops::Activation;
using ops::NeuronSelector;
using ops::TopkBackward;

// Both ways of computing a MoNE expert (MONE.md): every expert test runs both.
inline constexpr ops::MoneStrategy kStrategies[] = {ops::MoneStrategy::kMaskedDense, ops::MoneStrategy::kGathered};

// What the selector ranks, by loops in double (MONE.md, "Neuron selectors"), for one expert over
// all rows of `in`: scores [T, D] (the larger, the earlier chosen), G after the threshold's cut,
// and τ (0 unless kAbsGateThreshold).
struct SelectorScores {
  std::vector<std::vector<double>> score, g, u;  // [T][D]
  double tau = 0.0;
  double tau_margin = std::numeric_limits<double>::infinity();  // gap between τ and the next |G| below it
};

inline SelectorScores selector_scores(const ExpertInputs& in, int64_t k_n, Activation act, NeuronSelector selector) {
  const int64_t T = in.x.size(0), d = in.x.size(1), D = in.w_gate.size(0);
  const Tensor g = reference_gate(in, act);
  SelectorScores r;
  std::vector<double> all_abs;
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> G(D), U(D, 0.0);
    for (int64_t j = 0; j < D; ++j) {
      G[j] = read_as_double(g, t * D + j);
      for (int64_t c = 0; c < d; ++c) U[j] += read_as_double(in.x, t * d + c) * read_as_double(in.w_up, j * d + c);
      all_abs.push_back(std::abs(G[j]));
    }
    r.g.push_back(G);
    r.u.push_back(U);
  }
  if (selector == NeuronSelector::kAbsGateThreshold && k_n < D && T > 0) {
    std::sort(all_abs.begin(), all_abs.end(), std::greater<double>());
    r.tau = all_abs[T * k_n - 1];
    r.tau_margin = all_abs[T * k_n - 1] - all_abs[T * k_n];
    for (auto& row : r.g) {
      for (double& v : row) v = std::abs(v) < r.tau ? 0.0 : v;
    }
  }
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> sc(D);
    for (int64_t j = 0; j < D; ++j) {
      const double G = r.g[t][j];
      switch (selector) {
        case NeuronSelector::kSignedGate: sc[j] = G; break;
        case NeuronSelector::kAbsGateTimesUp: sc[j] = std::abs(G * r.u[t][j]); break;
        default: sc[j] = std::abs(G); break;
      }
    }
    r.score.push_back(sc);
  }
  return r;
}

// Draws expert inputs until every row's top-k_n selection by the selector is at least `margin`
// from a tie (the threshold's τ too), and no |G| (nor, for kAbsGateTimesUp, |G·U|) is within
// `margin` of 0, so finite differences never cross a selection, a cut or a |·| kink. Rows of the
// threshold selector that keep fewer than k_n neurons tie at 0 on purpose: those slots add
// nothing whichever neuron they name.
inline ExpertInputs draw_expert_with_margin(uint64_t seed, int64_t tokens, int64_t d, int64_t d_expert, int64_t k_n,
                                            ops::Activation act, DType dtype, double margin = 1e-3,
                                            NeuronSelector selector = NeuronSelector::kAbsGate) {
  for (uint64_t attempt = 0;; ++attempt) {
    Generator gen(seed * 1000 + attempt);
    ExpertInputs in = draw_expert(gen, tokens, d, d_expert, dtype);
    if (min_abs(reference_gate(in, act)) <= margin) continue;
    const SelectorScores s = selector_scores(in, k_n, act, selector);
    bool ok = s.tau_margin > margin;
    for (int64_t t = 0; ok && t < tokens && k_n < d_expert; ++t) {
      std::vector<double> v = s.score[t];
      std::sort(v.begin(), v.end(), std::greater<double>());
      const bool padded = v[k_n - 1] == 0.0;  // a threshold row with fewer than k_n above τ
      ok = padded || v[k_n - 1] - v[k_n] > margin;
      for (double x : v) ok = ok && (x == 0.0 || std::abs(x) > margin);
    }
    if (ok) return in;
  }
}

// MONE.md's forward and backward written as plain loops in double, one token at a time.
struct Reference {
  Tensor y, g, grad_x, grad_w_gate, grad_w_up, grad_w_down;
  std::vector<std::vector<int>> selected;  // per token, ascending
};

inline Reference reference_mone(const ExpertInputs& in, int64_t k_n, Activation act, TopkBackward estimator,
                                const Tensor& dy, const Tensor& dg_extra,
                                NeuronSelector selector = NeuronSelector::kAbsGate) {
  const int64_t T = in.x.size(0), d = in.x.size(1), D = in.w_gate.size(0);
  auto at = [](const Tensor& t, int64_t i) { return read_as_double(t, i); };
  const SelectorScores scores = selector_scores(in, k_n, act, selector);
  Reference r;
  r.y = Tensor::zeros({T, d}, DType::kF64);
  r.g = Tensor::zeros({T, D}, DType::kF64);
  r.grad_x = Tensor::zeros({T, d}, DType::kF64);
  r.grad_w_gate = Tensor::zeros({D, d}, DType::kF64);
  r.grad_w_up = Tensor::zeros({D, d}, DType::kF64);
  r.grad_w_down = Tensor::zeros({d, D}, DType::kF64);
  double *y = r.y.data<double>(), *gx = r.grad_x.data<double>(), *gwg = r.grad_w_gate.data<double>();
  double *gwu = r.grad_w_up.data<double>(), *gwd = r.grad_w_down.data<double>();
  for (int64_t t = 0; t < T; ++t) {
    const std::vector<double>& G = scores.g[t];
    const std::vector<double>& U = scores.u[t];
    std::vector<double> a(D), h(D), dh(D, 0.0), act_grad(D);
    for (int64_t j = 0; j < D; ++j) {
      for (int64_t c = 0; c < d; ++c) a[j] += at(in.x, t * d + c) * at(in.w_gate, j * d + c);
      const double s = 1.0 / (1.0 + std::exp(-a[j]));
      const bool cut = G[j] == 0.0 && a[j] != 0.0;  // the threshold set G to 0: constant there
      act_grad[j] = cut ? 0.0 : act == Activation::kSilu ? s * (1 + a[j] * (1 - s)) : s * (1 - s);
      r.g.data<double>()[t * D + j] = G[j];
    }
    std::vector<int> order(D);
    std::iota(order.begin(), order.end(), 0);
    const std::vector<double>& sc = scores.score[t];
    std::stable_sort(order.begin(), order.end(), [&](int i, int j) { return sc[i] > sc[j]; });
    std::vector<int> sel(order.begin(), order.begin() + k_n);
    std::sort(sel.begin(), sel.end());
    r.selected.push_back(sel);
    std::vector<bool> in_i(D, false);
    for (int j : sel) in_i[j] = true;
    for (int64_t j = 0; j < D; ++j) h[j] = in_i[j] ? G[j] * U[j] : 0.0;
    for (int64_t i = 0; i < d; ++i) {
      for (int64_t j = 0; j < D; ++j) {
        y[t * d + i] += h[j] * at(in.w_down, i * D + j);
        dh[j] += at(in.w_down, i * D + j) * at(dy, t * d + i);
        gwd[i * D + j] += h[j] * at(dy, t * d + i);
      }
    }
    for (int64_t j = 0; j < D; ++j) {
      const bool active = estimator == TopkBackward::kStraightThrough || in_i[j];
      const double dG = (dg_extra.defined() ? at(dg_extra, t * D + j) : 0.0) + (active ? dh[j] * U[j] : 0.0);
      const double du = active ? dh[j] * G[j] : 0.0;
      const double da = dG * act_grad[j];
      for (int64_t c = 0; c < d; ++c) {
        gwu[j * d + c] += du * at(in.x, t * d + c);
        gwg[j * d + c] += da * at(in.x, t * d + c);
        gx[t * d + c] += du * at(in.w_up, j * d + c) + da * at(in.w_gate, j * d + c);
      }
    }
  }
  return r;
}

}  // namespace mone::moe_test

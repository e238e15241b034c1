// Definitions and contracts: ops/cpu/moe_losses.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R rows grouped by expert.
//
// The two balance losses share one form over a block of scores [rows, cols] with fixed
// fractions F:  L = cols · Σ_j F_j · mean_r q_{r,j},  q = |s| (kRaw) or |s| / Σ_j'|s| (kNormalized).
// The expert loss is its raw form over the probs (p ≥ 0, so q = p); the neuron loss is its mean
// over the experts' blocks of G.
#include "ops/cpu/moe_losses.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "ops/cpu/math.h"

namespace mone::ops::cpu {

namespace {

// Work below this many elements stays on one thread.
constexpr int64_t kLossParallelWork = int64_t{1} << 16;

// (Σ_j |s_j|, Σ_j w_j |s_j|) over one row of scores, each summed in two running sums (even and
// odd j) added at the end: one pass, two independent chains per sum.
template <typename T>
std::pair<double, double> abs_sums(const T* s, const double* w, int64_t cols) {
  double a0 = 0.0, a1 = 0.0, b0 = 0.0, b1 = 0.0;
  int64_t j = 0;
  for (; j + 2 <= cols; j += 2) {
    const double m0 = std::abs(static_cast<double>(s[j])), m1 = std::abs(static_cast<double>(s[j + 1]));
    a0 += m0;
    a1 += m1;
    b0 += w[j] * m0;
    b1 += w[j + 1] * m1;
  }
  if (j < cols) {
    const double m = std::abs(static_cast<double>(s[j]));
    a0 += m;
    b0 += w[j] * m;
  }
  return {a0 + a1, b0 + b1};
}

// cols · Σ_j F_j mean_r q_{r,j} = (cols / rows) Σ_r Σ_j F_j q_{r,j}, where a row's
// Σ_j F_j q_j is Σ_j F_j |s_j| (raw) or that over Σ_j |s_j| (normalised; 0 for an all-zero row).
template <typename T>
double balance_block(const T* scores, const double* F, int64_t rows, int64_t cols, NeuronLossForm form) {
  double s = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const auto [sum, dot] = abs_sums(scores + r * cols, F, cols);
    s += form == NeuronLossForm::kRaw ? dot : (sum > 0.0 ? dot / sum : 0.0);
  }
  return static_cast<double>(cols) * s / static_cast<double>(rows);
}

// d(grad · balance_block)/d scores:  dL/dq_{r,j} = c_j = grad · cols · F_j / rows; then
// d|s_j|: raw c_j, normalised (q_j = |s_j| / S) (c_j − Σ_j' c_j' q_j') / S with
// Σ_j' c_j' q_j' = Σ_j' c_j' |s_j'| / S; times sign(s_j).
template <typename T>
void balance_block_backward(double grad, const T* scores, const double* F, int64_t rows, int64_t cols,
                            NeuronLossForm form, T* grad_scores) {
  std::vector<double> c(cols);
  for (int64_t j = 0; j < cols; ++j) c[j] = grad * cols * F[j] / rows;
  for (int64_t r = 0; r < rows; ++r) {
    const T* sr = scores + r * cols;
    T* out = grad_scores + r * cols;
    const auto [sum, c_abs] = abs_sums(sr, c.data(), cols);
    const double c_dot_q = sum > 0.0 ? c_abs / sum : 0.0;
    for (int64_t j = 0; j < cols; ++j) {
      double d_abs = c[j];
      if (form == NeuronLossForm::kNormalized) d_abs = sum > 0.0 ? (c[j] - c_dot_q) / sum : 0.0;
      const double sign = static_cast<double>((sr[j] > T(0)) - (sr[j] < T(0)));  // d|s|/ds
      out[j] = static_cast<T>(d_abs * sign);
    }
  }
}

std::vector<double> expert_fractions(const int64_t* counts, int64_t n, int64_t e, int64_t k) {
  std::vector<double> f(e);
  for (int64_t j = 0; j < e; ++j) f[j] = static_cast<double>(counts[j]) / static_cast<double>(n * k);
  return f;
}

// F_{e,:} of one expert's block: its counts over T_e · K_N.
std::vector<double> neuron_fractions(const int64_t* counts_e, int64_t rows, int64_t k_n, int64_t D) {
  std::vector<double> f(D);
  for (int64_t j = 0; j < D; ++j) f[j] = static_cast<double>(counts_e[j]) / static_cast<double>(rows * k_n);
  return f;
}

int64_t experts_with_rows(const int64_t* offsets, int64_t experts) {
  int64_t n = 0;
  for (int64_t e = 0; e < experts; ++e) n += offsets[e + 1] > offsets[e];
  return n;
}

}  // namespace

template <typename T>
void load_balance_loss(const T* probs, const int64_t* counts, int64_t n, int64_t e, int64_t k, T* loss) {
  const std::vector<double> f = expert_fractions(counts, n, e, k);
  *loss = static_cast<T>(balance_block(probs, f.data(), n, e, NeuronLossForm::kRaw));
}

template <typename T>
void load_balance_loss_backward(const T* grad_loss, const T* probs, const int64_t* counts, int64_t n, int64_t e,
                                int64_t k, T* grad_probs) {
  // d|p|/dp = sign(p) = 1, except where p underflowed to 0, and there softmax's backward
  // multiplies by p = 0 anyway.
  const std::vector<double> f = expert_fractions(counts, n, e, k);
  balance_block_backward(static_cast<double>(*grad_loss), probs, f.data(), n, e, NeuronLossForm::kRaw, grad_probs);
}

template <typename T>
void z_loss(const T* logits, int64_t n, int64_t e, T* loss) {
  double s = 0.0;
  for (int64_t t = 0; t < n; ++t) {
    const double lse = logsumexp(logits + t * e, e);
    s += lse * lse;
  }
  *loss = static_cast<T>(s / static_cast<double>(n));
}

template <typename T>
void z_loss_backward(const T* grad_loss, const T* logits, int64_t n, int64_t e, T* grad_logits) {
  const double grad = static_cast<double>(*grad_loss);
  for (int64_t t = 0; t < n; ++t) {
    const T* z = logits + t * e;
    const double lse = logsumexp(z, e);
    // d lse / d z = softmax(z) = exp(z − lse)
    for (int64_t j = 0; j < e; ++j) {
      grad_logits[t * e + j] = static_cast<T>(grad * 2.0 * lse * std::exp(static_cast<double>(z[j]) - lse) / n);
    }
  }
}

void neuron_counts(const int32_t* idx, const int64_t* offsets, int64_t experts, int64_t k_n, int64_t D,
                   int64_t* counts) {
  std::fill(counts, counts + experts * D, int64_t{0});
  for (int64_t e = 0; e < experts; ++e) {
    int64_t* c = counts + e * D;
    for (int64_t i = offsets[e] * k_n; i < offsets[e + 1] * k_n; ++i) ++c[idx[i]];
  }
}

template <typename T>
void neuron_balance_loss(const T* g, const int32_t* idx, const int64_t* offsets, int64_t experts, int64_t D,
                         int64_t k_n, NeuronLossForm form, T* loss) {
  std::vector<int64_t> counts(experts * D);
  neuron_counts(idx, offsets, experts, k_n, D, counts.data());
  // Each expert's term on its own (in parallel), then their sum in expert order.
  std::vector<double> terms(experts, 0.0);
#pragma omp parallel for schedule(dynamic, 1) if (offsets[experts] * D > kLossParallelWork)
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t rows = offsets[e + 1] - offsets[e];
    if (rows == 0) continue;
    const std::vector<double> f = neuron_fractions(counts.data() + e * D, rows, k_n, D);
    terms[e] = balance_block(g + offsets[e] * D, f.data(), rows, D, form);
  }
  double sum = 0.0;
  for (double t : terms) sum += t;
  const int64_t active = experts_with_rows(offsets, experts);
  *loss = static_cast<T>(active > 0 ? sum / static_cast<double>(active) : 0.0);
}

template <typename T>
void neuron_balance_loss_backward(const T* grad_loss, const T* g, const int32_t* idx, const int64_t* offsets,
                                  int64_t experts, int64_t D, int64_t k_n, NeuronLossForm form, T* grad_g) {
  std::vector<int64_t> counts(experts * D);
  neuron_counts(idx, offsets, experts, k_n, D, counts.data());
  const int64_t active = experts_with_rows(offsets, experts);
  const double grad = active > 0 ? static_cast<double>(*grad_loss) / static_cast<double>(active) : 0.0;
#pragma omp parallel for schedule(dynamic, 1) if (offsets[experts] * D > kLossParallelWork)
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t rows = offsets[e + 1] - offsets[e];
    if (rows == 0) continue;
    const std::vector<double> f = neuron_fractions(counts.data() + e * D, rows, k_n, D);
    balance_block_backward(grad, g + offsets[e] * D, f.data(), rows, D, form, grad_g + offsets[e] * D);
  }
}

#define MONE_INSTANTIATE(T)                                                                                      \
  template void load_balance_loss<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*);                   \
  template void load_balance_loss_backward<T>(const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, T*); \
  template void z_loss<T>(const T*, int64_t, int64_t, T*);                                                       \
  template void z_loss_backward<T>(const T*, const T*, int64_t, int64_t, T*);                                    \
  template void neuron_balance_loss<T>(const T*, const int32_t*, const int64_t*, int64_t, int64_t, int64_t,      \
                                       NeuronLossForm, T*);                                                      \
  template void neuron_balance_loss_backward<T>(const T*, const T*, const int32_t*, const int64_t*, int64_t,     \
                                                int64_t, int64_t, NeuronLossForm, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

// Definitions and contracts: ops/cpu/moe_losses.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/cpu/moe_losses.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mone::ops::cpu {

namespace {

// logsumexp of one row, max-subtracted.
template <typename T>
double logsumexp(const T* z, int64_t e) {
  double m = z[0];
  for (int64_t j = 1; j < e; ++j) m = std::max(m, static_cast<double>(z[j]));
  double s = 0.0;
  for (int64_t j = 0; j < e; ++j) s += std::exp(z[j] - m);
  return m + std::log(s);
}

// The balance form's q_{r,:} of one row of scores, and Σ_j |s_j|.
template <typename T>
double balance_scores(const T* s, int64_t cols, NeuronLossForm form, std::vector<double>& q) {
  double sum = 0.0;
  for (int64_t j = 0; j < cols; ++j) sum += std::abs(static_cast<double>(s[j]));
  for (int64_t j = 0; j < cols; ++j) {
    const double m = std::abs(static_cast<double>(s[j]));
    q[j] = form == NeuronLossForm::kRaw ? m : (sum > 0.0 ? m / sum : 0.0);
  }
  return sum;
}

double sign(double v) { return static_cast<double>((v > 0.0) - (v < 0.0)); }

}  // namespace

template <typename T>
double z_loss(const T* logits, int64_t n, int64_t e) {
  double s = 0.0;
  for (int64_t t = 0; t < n; ++t) {
    const double lse = logsumexp(logits + t * e, e);
    s += lse * lse;
  }
  return s / static_cast<double>(n);
}

template <typename T>
void z_loss_backward(double grad, const T* logits, int64_t n, int64_t e, T* grad_logits) {
  for (int64_t t = 0; t < n; ++t) {
    const T* z = logits + t * e;
    const double lse = logsumexp(z, e);
    // d lse / d z = softmax(z) = exp(z − lse)
    for (int64_t j = 0; j < e; ++j) grad_logits[t * e + j] = static_cast<T>(grad * 2.0 * lse * std::exp(z[j] - lse) / n);
  }
}

template <typename T>
double balance_loss(const T* scores, const double* F, int64_t rows, int64_t cols, NeuronLossForm form) {
  // cols · Σ_j F_j Q_j = (cols / rows) Σ_r Σ_j F_j q_{r,j}
  std::vector<double> q(cols);
  double s = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    balance_scores(scores + r * cols, cols, form, q);
    for (int64_t j = 0; j < cols; ++j) s += F[j] * q[j];
  }
  return static_cast<double>(cols) * s / static_cast<double>(rows);
}

template <typename T>
void balance_loss_backward(double grad, const T* scores, const double* F, int64_t rows, int64_t cols,
                           NeuronLossForm form, T* grad_scores) {
  std::vector<double> q(cols), c(cols);
  for (int64_t j = 0; j < cols; ++j) c[j] = grad * cols * F[j] / rows;  // dL/dq_{r,j}
  for (int64_t r = 0; r < rows; ++r) {
    const T* sr = scores + r * cols;
    T* out = grad_scores + r * cols;
    const double sum = balance_scores(sr, cols, form, q);
    // dL/d|s_j|: raw c_j; normalised (q_j = |s_j| / S): (c_j − Σ_j' c_j' q_j') / S.
    double c_dot_q = 0.0;
    for (int64_t j = 0; j < cols; ++j) c_dot_q += c[j] * q[j];
    for (int64_t j = 0; j < cols; ++j) {
      double d_abs = c[j];
      if (form == NeuronLossForm::kNormalized) d_abs = sum > 0.0 ? (c[j] - c_dot_q) / sum : 0.0;
      out[j] = static_cast<T>(d_abs * sign(sr[j]));  // d|s|/ds = sign(s)
    }
  }
}

#define MONE_INSTANTIATE(T)                                                                                    \
  template double z_loss<T>(const T*, int64_t, int64_t);                                                       \
  template void z_loss_backward<T>(double, const T*, int64_t, int64_t, T*);                                    \
  template double balance_loss<T>(const T*, const double*, int64_t, int64_t, NeuronLossForm);                  \
  template void balance_loss_backward<T>(double, const T*, const double*, int64_t, int64_t, NeuronLossForm, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

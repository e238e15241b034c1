// Definitions and contracts: ops/cpu/router.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/cpu/router.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/moe_gemm.h"

namespace mone::ops::cpu {

template <typename T>
void router_forward(const T* x, const T* w_router, int64_t n, int64_t d, int64_t e, int64_t k, bool norm_topk_prob,
                    T* logits, T* probs, int32_t* expert_ids, T* weights) {
  // z = x · W_rᵀ
  moe_linear<T>(x, w_router, n, d, e, T(0), logits);
#pragma omp parallel for schedule(static) if (n * e > 16384)
  for (int64_t t = 0; t < n; ++t) {
    const T* z = logits + t * e;
    T* p = probs + t * e;
    // p = softmax(z): subtract the max, exponentiate and sum in double.
    double zmax = z[0];
    for (int64_t j = 1; j < e; ++j) zmax = std::max(zmax, static_cast<double>(z[j]));
    double sum = 0.0;
    for (int64_t j = 0; j < e; ++j) sum += std::exp(static_cast<double>(z[j]) - zmax);
    for (int64_t j = 0; j < e; ++j) p[j] = static_cast<T>(std::exp(static_cast<double>(z[j]) - zmax) / sum);
    // S_t: K rounds of argmax over the experts not taken yet; the strict '>' keeps the lower
    // index on ties, and slot s holds the s-th largest.
    std::vector<char> taken(e, 0);
    double selected_sum = 0.0;
    for (int64_t s = 0; s < k; ++s) {
      int64_t best = -1;
      for (int64_t j = 0; j < e; ++j) {
        if (!taken[j] && (best < 0 || p[j] > p[best])) best = j;
      }
      taken[best] = 1;
      expert_ids[t * k + s] = static_cast<int32_t>(best);
      weights[t * k + s] = p[best];
      selected_sum += p[best];
    }
    // g = p_S, or p_S / Σ p_S with norm_topk_prob.
    if (norm_topk_prob) {
      for (int64_t s = 0; s < k; ++s) weights[t * k + s] = static_cast<T>(weights[t * k + s] / selected_sum);
    }
  }
}

template <typename T>
void router_logits_backward(const T* grad_weights, const T* grad_probs, const T* grad_logits_extra, const T* probs,
                            const int32_t* expert_ids, const T* weights, int64_t n, int64_t e, int64_t k,
                            bool norm_topk_prob, T* grad_logits) {
#pragma omp parallel for schedule(static) if (n * e > 16384)
  for (int64_t t = 0; t < n; ++t) {
    const T* p = probs + t * e;
    const int32_t* ids = expert_ids + t * k;
    // dp: the direct gradient on probs, plus the weights' gradient scattered to the selected experts.
    std::vector<double> dp(e, 0.0);
    if (grad_probs != nullptr) {
      for (int64_t j = 0; j < e; ++j) dp[j] = grad_probs[t * e + j];
    }
    if (grad_weights != nullptr) {
      const T* dg = grad_weights + t * k;
      if (norm_topk_prob) {
        // g_s = p_s / S with S = Σ_s' p_s':  dp_s = (dg_s − Σ_s' dg_s' g_s') / S.
        double selected_sum = 0.0, dg_dot_g = 0.0;
        for (int64_t s = 0; s < k; ++s) {
          selected_sum += p[ids[s]];
          dg_dot_g += static_cast<double>(dg[s]) * weights[t * k + s];
        }
        for (int64_t s = 0; s < k; ++s) dp[ids[s]] += (dg[s] - dg_dot_g) / selected_sum;
      } else {
        for (int64_t s = 0; s < k; ++s) dp[ids[s]] += dg[s];
      }
    }
    // Softmax backward: dz = p ⊙ (dp − p · dp).
    double p_dot_dp = 0.0;
    for (int64_t j = 0; j < e; ++j) p_dot_dp += p[j] * dp[j];
    T* dz = grad_logits + t * e;
    for (int64_t j = 0; j < e; ++j) {
      double v = p[j] * (dp[j] - p_dot_dp);
      if (grad_logits_extra != nullptr) v += grad_logits_extra[t * e + j];
      dz[j] = static_cast<T>(v);
    }
  }
}

#define MONE_INSTANTIATE(T)                                                                                  \
  template void router_forward<T>(const T*, const T*, int64_t, int64_t, int64_t, int64_t, bool, T*, T*,    \
                                  int32_t*, T*);                                                            \
  template void router_logits_backward<T>(const T*, const T*, const T*, const T*, const int32_t*, const T*, \
                                          int64_t, int64_t, int64_t, bool, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

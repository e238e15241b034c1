// Definitions and contracts: ops/cpu/router.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/cpu/router.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "ops/cpu/math.h"
#include "ops/cpu/matmul.h"

namespace mone::ops::cpu {

template <typename T>
void router_forward(const T* x, const T* w_router, int64_t n, int64_t d, int64_t e, int64_t k, bool norm_topk_prob,
                    T* logits, T* probs, int32_t* expert_ids, T* weights) {
  // z = x · W_rᵀ
  gemm<T>(false, true, n, e, d, T(1), x, d, w_router, d, T(0), logits, e);
#pragma omp parallel for schedule(static) if (n * e > 16384)
  for (int64_t t = 0; t < n; ++t) {
    T* p = probs + t * e;
    softmax(logits + t * e, e, p);
    // S_t: the K largest p in the top-k order (ties to the lower index), slot s the s-th largest.
    std::vector<int64_t> order(e);
    std::iota(order.begin(), order.end(), int64_t{0});
    std::partial_sort(order.begin(), order.begin() + k, order.end(), TopkBefore<T>{p});
    double selected_sum = 0.0;
    for (int64_t s = 0; s < k; ++s) {
      expert_ids[t * k + s] = static_cast<int32_t>(order[s]);
      weights[t * k + s] = p[order[s]];
      selected_sum += p[order[s]];
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

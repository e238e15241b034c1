// The MoE router: logits, softmax over all experts, top-K selection and the combine weights.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
//
// Our definition (MONE.md, "Router"):
//   z_t = W_r x_t                        logits [N, E], W_r [E, d], no bias
//   p_t = softmax(z_t) over all E        probs [N, E] (max-subtracted, summed in double)
//   S_t = the K experts with largest p_t, ties to the lower index; slot 0 holds the largest
//   g_{t,s} = p_{t,S_t[s]}               weights [N, K]; with norm_topk_prob divided by Σ_s g_{t,s}
// The selection S is piecewise constant and carries no gradient.
//
// Backward: grad_weights, grad_probs (the load-balance loss) and grad_logits_extra (the z-loss)
// are summed into one d logits, then through the linear map:
//   dp_{t,e}  = grad_probs_{t,e} + Σ_s [S_t[s] = e] · dg'_{t,s}, where dg' = dg without
//               renormalisation and dg'_s = (dg_s − Σ_s' dg_s' g_s') / Σ_s' p_{S_t[s']} with it
//   dz_t      = p_t ⊙ (dp_t − p_t · dp_t) + grad_logits_extra_t
//   grad_x    = dz · W_r        grad_w_router = dzᵀ · x
// Every gradient is returned fresh (=), never accumulated.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace mone::ops {

struct RouterForward {
  Tensor logits;      // [N, E], x's dtype
  Tensor probs;       // [N, E], x's dtype
  Tensor expert_ids;  // [N, K] i32, slot order: descending p, ties to the lower index
  Tensor weights;     // [N, K], x's dtype
  bool norm_topk_prob = false;  // how weights were made (router_backward needs it)
};

// x [N, d], w_router [E, d], 1 <= k <= E.
StatusOr<RouterForward> router_forward(const Tensor& x, const Tensor& w_router, int64_t k, bool norm_topk_prob);

struct RouterGrads {
  Tensor grad_x;         // [N, d]
  Tensor grad_w_router;  // [E, d]
};

// grad_weights [N, K], grad_probs [N, E] and grad_logits_extra [N, E] may each be undefined
// (no gradient from that path); at least the shapes of the defined ones must match `forward`.
StatusOr<RouterGrads> router_backward(const Tensor& grad_weights, const Tensor& grad_probs,
                                      const Tensor& grad_logits_extra, const Tensor& x, const Tensor& w_router,
                                      const RouterForward& forward);

}  // namespace mone::ops

// The MoNE expert FFN for ONE expert's segment of tokens (MONE.md, "MoNE forward" and "Backward
// through the neuron top-k").
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept per token (1 <= K_N <= D);
//   T = T_e tokens routed to this expert (its segment of the N·K routed rows).
//
// Our definition, per token x_t:
//   a = W_gate x_t                  [D]   always a dense GEMM over all D neurons
//   G = act(a)                      [D]   silu or sigmoid
//   I = the K_N largest |G_j|, ties to the lower index; stored in ascending neuron order
//   u_k = W_up[I_k, :] · x_t        [K_N] only K_N rows of W_up are needed
//   h_k = G_{I_k} · u_k             [K_N] the selected G are used as they are (no renormalising)
//   y_t = Σ_k h_k · W_down[:, I_k]  [d]   only K_N columns of W_down are needed
// K_N = D is exactly the SwiGLU expert W_down (act(W_gate x) ⊙ W_up x).
//
// Strategies (the numbers agree up to float rounding):
//   kMaskedDense: U = x W_upᵀ for all D (GEMM), H = G ⊙ U with unselected entries zeroed,
//                 y = H W_downᵀ (GEMM). Touches every weight.
//   kGathered:    u by K_N dot products per token, y by a sparse (h, I) × dense W_downᵀ
//                 accumulation. Reads only the selected rows of W_up / columns of W_down.
//
// Backward (every gradient is fresh, =). With dy = grad_y and dG_extra = grad_g_extra (the
// neuron-balance loss's gradient into G; it reaches every neuron, selected or not):
//   HARD, j = I_k:          dh_k = W_down[:, j] · dy,   dW_down[:, j] = Σ_t h_k dy
//                           dG_j = dh_k u_k,  du_k = dh_k G_j   (dG_j = 0 and du_j = 0 for j ∉ I)
//   STRAIGHT_THROUGH, all j: dh_j = W_down[:, j] · dy (the mask is the identity), so it needs the
//                           dense U = x W_upᵀ again: dG_j = dh_j U_j, du_j = dh_j G_j;
//                           dW_down still only gets Σ_t h dy on selected columns (h_j = 0 elsewhere).
//                           Its backward is dense by nature, so both strategies run the same code.
//   then for both:          dW_up[j, :] = Σ_t du_j x_t,   dx = Σ_j du_j W_up[j, :]
//                           da = (dG + dG_extra) ⊙ act'(a),  dW_gate = daᵀ x,  dx += da W_gate
// With K_N = D the two estimators coincide.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "ops/op_types.h"

namespace mone::ops {

struct MoneFfnForward {
  Tensor y;    // [T, d]
  Tensor a;    // [T, D] pre-activation W_gate x
  Tensor g;    // [T, D] G = act(a)
  Tensor idx;  // [T, K_N] i32, the selected neurons in ascending order
  Tensor u;    // [T, K_N] W_up[idx] · x
  Tensor h;    // [T, K_N] G[idx] ⊙ u
};

// x [T, d], w_gate [D, d], w_up [D, d], w_down [d, D]; T may be 0.
StatusOr<MoneFfnForward> mone_ffn_forward(const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                                          const Tensor& w_down, int64_t k_n, Activation act, MoneStrategy strategy);

struct MoneFfnGrads {
  Tensor grad_x;       // [T, d]
  Tensor grad_w_gate;  // [D, d]
  Tensor grad_w_up;    // [D, d]
  Tensor grad_w_down;  // [d, D]
};

// grad_y [T, d]; grad_g_extra [T, D] may be undefined. `act` must be the forward's activation.
StatusOr<MoneFfnGrads> mone_ffn_backward(const Tensor& grad_y, const Tensor& grad_g_extra, const Tensor& x,
                                         const Tensor& w_gate, const Tensor& w_up, const Tensor& w_down,
                                         const MoneFfnForward& fwd, TopkBackward estimator, MoneStrategy strategy,
                                         Activation act);

// The plain SwiGLU (or sigmoid-GLU) expert: mone_ffn with K_N = D, masked-dense.
StatusOr<MoneFfnForward> swiglu_expert_forward(const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                                               const Tensor& w_down, Activation act);
StatusOr<MoneFfnGrads> swiglu_expert_backward(const Tensor& grad_y, const Tensor& x, const Tensor& w_gate,
                                              const Tensor& w_up, const Tensor& w_down, const MoneFfnForward& fwd,
                                              Activation act);

}  // namespace mone::ops

// The MoE / MoNE auxiliary losses (MONE.md, "Auxiliary losses"); each equals 1.0 when perfectly
// balanced, and each returns a 0-d tensor of its input's dtype.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept;
//   T = T_e tokens of one expert (the neuron loss).
//
// Our definitions:
//   load balance  L_aux = E · Σ_e f_e · P_e,   f_e = counts_e / (N·K),  P_e = mean_t p_{t,e}
//                 f (the hard routing counts) is a constant; gradient flows through P only:
//                 dL/dp_{t,e} = E · f_e / N.
//   router z-loss L_z = mean_t (logsumexp z_t)²;  dL/dz_{t,e} = 2 · lse_t · softmax(z_t)_e / N.
//   neuron balance (one expert, T_e > 0 tokens)  L = D · Σ_j F_j · Q_j,
//                 F_j = (times j is in idx) / (T·K_N),  Q_j = mean_t q_{t,j},
//                 q_{t,j} = |G_{t,j}| / Σ_j' |G_{t,j'}| (kNormalized) or |G_{t,j}| (kRaw).
//                 F is a constant; with c_j = D·F_j / T the gradient is
//                   kRaw:        dL/dG_{t,j} = c_j · sign(G_{t,j})
//                   kNormalized: dL/dG_{t,j} = (c_j − Σ_j' c_j' q_{t,j'}) / Σ_j'|G_{t,j'}| · sign(G_{t,j})
//                 (a token whose G is all zero has q = 0 and no gradient). The layer's L_NG is the
//                 mean of this over the experts with T_e > 0: the caller averages.
// The two balance losses are one form, C · Σ_j F_j · mean_t q_{t,j} with C the number of columns
// (E or D): the expert loss is its raw form over probs (p ≥ 0), the neuron loss over G.
// Backward functions take the loss's gradient (a one-element tensor) and return fresh (=) gradients.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "ops/op_types.h"

namespace mone::ops {

// probs [N, E] (N >= 1), counts [E] (i32 or i64, summing to N·K).
StatusOr<Tensor> load_balance_loss(const Tensor& probs, const Tensor& counts, int64_t k);
StatusOr<Tensor> load_balance_loss_backward(const Tensor& grad_loss, const Tensor& probs, const Tensor& counts,
                                            int64_t k);  // -> grad_probs [N, E]

// logits [N, E] (N >= 1).
StatusOr<Tensor> z_loss(const Tensor& logits);
StatusOr<Tensor> z_loss_backward(const Tensor& grad_loss, const Tensor& logits);  // -> grad_logits [N, E]

// g [T, D] (T >= 1), idx [T, K_N] i32 or i64 with ids in [0, D).
StatusOr<Tensor> neuron_balance_loss(const Tensor& g, const Tensor& idx, NeuronLossForm form);
StatusOr<Tensor> neuron_balance_loss_backward(const Tensor& grad_loss, const Tensor& g, const Tensor& idx,
                                              NeuronLossForm form);  // -> grad_g [T, D]

}  // namespace mone::ops

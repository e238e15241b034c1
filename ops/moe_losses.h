// The MoE / MoNE auxiliary losses (MONE.md, "Auxiliary losses"); each equals 1.0 when perfectly
// balanced, and each returns a 0-d tensor of its input's dtype.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept;
//   R rows grouped by expert (the neuron loss), T_e of them for expert e.
//
// Our definitions:
//   load balance  L_aux = E · Σ_e f_e · P_e,   f_e = counts_e / (N·K),  P_e = mean_t p_{t,e}
//                 f (the hard routing counts) is a constant; gradient flows through P only:
//                 dL/dp_{t,e} = E · f_e / N.
//   router z-loss L_z = mean_t (logsumexp z_t)²;  dL/dz_{t,e} = 2 · lse_t · softmax(z_t)_e / N.
//   neuron balance (every expert of a layer; rows grouped by expert, expert e has T_e rows)
//                 L_NG = mean over the experts with T_e > 0 of D · Σ_j F_{e,j} · Q_{e,j}
//                 (0 when no expert has rows),
//                 F_{e,j} = (times j is in idx over e's rows) / (T_e·K_N),  Q_{e,j} = mean over e's rows of q_{t,j},
//                 q_{t,j} = |G_{t,j}| / Σ_j' |G_{t,j'}| (kNormalized) or |G_{t,j}| (kRaw).
//                 F is a constant; with E' the experts with rows and c_j = D·F_{e,j} / (T_e·E'),
//                 the gradient on a row t of expert e is
//                   kRaw:        dL/dG_{t,j} = c_j · sign(G_{t,j})
//                   kNormalized: dL/dG_{t,j} = (c_j − Σ_j' c_j' q_{t,j'}) / Σ_j'|G_{t,j'}| · sign(G_{t,j})
//                 (a row whose G is all zero has q = 0 and no gradient).
// The two balance losses are one form, C · Σ_j F_j · mean_t q_{t,j} with C the number of columns
// (E or D): the expert loss is its raw form over probs (p ≥ 0), the neuron loss over G.
// Backward functions take the loss's gradient (a one-element tensor) and return fresh (=) gradients.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "ops/op_types.h"

namespace mone::ops {

// probs [N, E] (N >= 1), counts [E] i64 summing to N·K (the dispatch plan's counts).
StatusOr<Tensor> load_balance_loss(const Tensor& probs, const Tensor& counts, int64_t k);
StatusOr<Tensor> load_balance_loss_backward(const Tensor& grad_loss, const Tensor& probs, const Tensor& counts,
                                            int64_t k);  // -> grad_probs [N, E]

// logits [N, E] (N >= 1).
StatusOr<Tensor> z_loss(const Tensor& logits);
StatusOr<Tensor> z_loss_backward(const Tensor& grad_loss, const Tensor& logits);  // -> grad_logits [N, E]

// g [R, D], idx [R, K_N] i32 (the MoNE selections, ids in [0, D)), offsets [E + 1] i64 with
// 0 = offsets[0] <= ... <= offsets[E] = R, or undefined for one expert over all R rows (R >= 0).
StatusOr<Tensor> neuron_balance_loss(const Tensor& g, const Tensor& idx, const Tensor& offsets, NeuronLossForm form);
StatusOr<Tensor> neuron_balance_loss_backward(const Tensor& grad_loss, const Tensor& g, const Tensor& idx,
                                              const Tensor& offsets, NeuronLossForm form);  // -> grad_g [R, D]

// How often each neuron was kept: counts [E, D] i64 (E = 1 without offsets), counts[e, j] = the
// rows of expert e whose idx holds j. The statistics behind F above and the neuron load in metrics.
StatusOr<Tensor> neuron_counts(const Tensor& idx, const Tensor& offsets, int64_t D);

}  // namespace mone::ops

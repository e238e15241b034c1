// CPU kernels for ops/moe_losses.h. Contiguous inputs; sums in double; each loss is written to a
// one-element `loss`, and each backward reads the upstream gradient from `grad_loss` (one element).
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R rows grouped by expert, T_e of them for expert e.
#pragma once

#include <cstdint>

#include "ops/op_types.h"

namespace mone::ops::cpu {

// L_aux = E · Σ_e f_e · mean_t p_{t,e},  f_e = counts[e] / (N·K).
template <typename T>
void load_balance_loss(const T* probs, const int64_t* counts, int64_t n, int64_t e, int64_t k, T* loss);
template <typename T>
void load_balance_loss_backward(const T* grad_loss, const T* probs, const int64_t* counts, int64_t n, int64_t e,
                                int64_t k, T* grad_probs);

// mean_t (logsumexp z_t)², and its gradient 2 · lse_t · softmax(z_t) / N times grad.
template <typename T>
void z_loss(const T* logits, int64_t n, int64_t e, T* loss);
template <typename T>
void z_loss_backward(const T* grad_loss, const T* logits, int64_t n, int64_t e, T* grad_logits);

// counts [E, D] (=): how many rows of expert e kept neuron j. offsets [E + 1]; idx [R, K_N].
void neuron_counts(const int32_t* idx, const int64_t* offsets, int64_t experts, int64_t k_n, int64_t D,
                   int64_t* counts);

// L_NG = mean over the experts with T_e > 0 of D · Σ_j F_{e,j} Q_{e,j} (0 when there are none);
// g [R, D], idx [R, K_N], offsets [E + 1].
template <typename T>
void neuron_balance_loss(const T* g, const int32_t* idx, const int64_t* offsets, int64_t experts, int64_t D,
                         int64_t k_n, NeuronLossForm form, T* loss);
template <typename T>
void neuron_balance_loss_backward(const T* grad_loss, const T* g, const int32_t* idx, const int64_t* offsets,
                                  int64_t experts, int64_t D, int64_t k_n, NeuronLossForm form, T* grad_g);

}  // namespace mone::ops::cpu

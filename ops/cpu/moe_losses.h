// CPU kernels for ops/moe_losses.h. Contiguous inputs; sums in double.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; T tokens of one expert.
#pragma once

#include <cstdint>

#include "ops/op_types.h"

namespace mone::ops::cpu {

// mean_t (logsumexp z_t)², and its gradient 2 · lse_t · softmax(z_t) / N times grad.
template <typename T>
double z_loss(const T* logits, int64_t n, int64_t e);
template <typename T>
void z_loss_backward(double grad, const T* logits, int64_t n, int64_t e, T* grad_logits);

// The balance form shared by the expert and the neuron losses, over scores [rows, cols]:
//   L = cols · Σ_j F_j · mean_r q_{r,j},  q = |score| (kRaw) or |score| / Σ_j'|score| (kNormalized).
// The expert load balance is kRaw over the probs (p ≥ 0, so q = p) with F = f.
template <typename T>
double balance_loss(const T* scores, const double* F, int64_t rows, int64_t cols, NeuronLossForm form);
template <typename T>
void balance_loss_backward(double grad, const T* scores, const double* F, int64_t rows, int64_t cols,
                           NeuronLossForm form, T* grad_scores);

}  // namespace mone::ops::cpu

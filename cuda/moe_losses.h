// CUDA launchers for ops/moe_losses.h (T = float or bf16; the formulas are there). Each loss is a
// sum of per-row terms: a kernel writes each row's term in double (the CPU's sums over a row, in
// the CPU's order for the short rows of the router, in a fixed tree for the neuron rows), and the
// op adds them with cuda/reduce.h's sum_f64 (a fixed tree) and rounds once. The backward kernels
// read the loss's gradient from the device. The neuron counts add integers with atomics (exact,
// so the result does not depend on the order); no float atomics anywhere.
//
// Shape letters: N tokens, E experts, K experts per token, R rows grouped by expert (T_e of them
//   for expert e, E' experts with T_e > 0), D expert width, K_N neurons kept.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"
#include "ops/op_types.h"

namespace mone::cuda {

// row_terms[t] = Σ_j F_j · p_{t,j}, F_j = counts[j] / (N·K); L_aux = (E / N) Σ_t row_terms[t].
template <typename T>
cudaError_t load_balance_rows(const T* probs, const int64_t* counts, int64_t n, int64_t e, int64_t k,
                              double* row_terms, cudaStream_t stream);
// grad_probs [N, E] (=) = grad · E · F_j / N · sign(p).
template <typename T>
cudaError_t load_balance_backward(const T* grad_loss, const T* probs, const int64_t* counts, int64_t n, int64_t e,
                                  int64_t k, T* grad_probs, cudaStream_t stream);

// row_terms[t] = (logsumexp z_t)²; L_z = (1 / N) Σ_t row_terms[t].
template <typename T>
cudaError_t z_loss_rows(const T* logits, int64_t n, int64_t e, double* row_terms, cudaStream_t stream);
// grad_logits [N, E] (=) = grad · 2 · lse_t · softmax(z_t) / N.
template <typename T>
cudaError_t z_loss_backward(const T* grad_loss, const T* logits, int64_t n, int64_t e, T* grad_logits,
                            cudaStream_t stream);

// counts [E, D] (=): how many rows of expert e kept neuron j. offsets [E + 1] on the device, or
// nullptr for one expert over all R rows (E = 1).
cudaError_t neuron_counts(const int32_t* idx, const int64_t* offsets, int64_t experts, int64_t rows, int64_t k_n,
                          int64_t D, int64_t* counts, cudaStream_t stream);

// row_terms[t] (row t of expert e) = D · Σ_j F_{e,j} q_{t,j} / (T_e · E'), F_{e,j} = counts[e, j] /
// (T_e · K_N); L_NG = Σ_t row_terms[t]. counts from neuron_counts.
template <typename T>
cudaError_t neuron_balance_rows(const T* g, const int64_t* counts, const int64_t* offsets, int64_t experts,
                                int64_t rows, int64_t D, int64_t k_n, ops::NeuronLossForm form, double* row_terms,
                                cudaStream_t stream);
// grad_g [R, D] (=), ops/moe_losses.h's formula.
template <typename T>
cudaError_t neuron_balance_backward(const T* grad_loss, const T* g, const int64_t* counts, const int64_t* offsets,
                                    int64_t experts, int64_t rows, int64_t D, int64_t k_n, ops::NeuronLossForm form,
                                    T* grad_g, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_MOE_LOSSES_LAUNCHERS(T)                                                                          \
  template cudaError_t load_balance_rows<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, double*,          \
                                            cudaStream_t);                                                         \
  template cudaError_t load_balance_backward<T>(const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, T*, \
                                                cudaStream_t);                                                     \
  template cudaError_t z_loss_rows<T>(const T*, int64_t, int64_t, double*, cudaStream_t);                          \
  template cudaError_t z_loss_backward<T>(const T*, const T*, int64_t, int64_t, T*, cudaStream_t);                 \
  template cudaError_t neuron_balance_rows<T>(const T*, const int64_t*, const int64_t*, int64_t, int64_t, int64_t, \
                                              int64_t, ops::NeuronLossForm, double*, cudaStream_t);                \
  template cudaError_t neuron_balance_backward<T>(const T*, const T*, const int64_t*, const int64_t*, int64_t,     \
                                                  int64_t, int64_t, int64_t, ops::NeuronLossForm, T*, cudaStream_t);

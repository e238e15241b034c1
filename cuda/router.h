// CUDA launchers for ops/router.h (T = float or bf16): everything after the logits GEMM (which the
// op runs through cuBLAS, cuda/blas.h), one thread block per token row, matching the CPU kernel
// (ops/cpu/router.cpp) step by step:
//   softmax   max-subtracted, exponentials and their sum in double, p rounded once to T;
//   top-K     over the stored p in the top-k order of ops/cpu/math.h (larger first, NaN first,
//             ties to the lower index): expert j lands in slot rank(j), the number of experts
//             before it in that order (router_rank below), so no sort and no atomics;
//   weights   g_s = p_{S[s]}, with norm_topk_prob divided by Σ_s g_s summed in double in slot order.
// The backward writes d logits (=) from the three optional upstream gradients, each token's
// dot products in double (a fixed tree); the op then runs the two GEMMs of grad_x and grad_w_router.
//
// Shape letters: N tokens, E experts, K experts per token (1 <= K <= E).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/hd.h"
#include "cuda/launch.h"
#include "cuda/topk.h"

namespace mone::cuda {

// The slot of expert j among the E experts of one token: how many experts come before it in the
// top-k order of the order keys key(i) (cuda/topk.h's topk_order_key of p_i). Slots 0..K-1 are
// S_t; rank is a bijection onto [0, E), so each slot is written once.
template <class Key>
MONE_HD int64_t router_rank(Key key, int64_t e, int64_t j) {
  const uint32_t kj = key(j);
  int64_t rank = 0;
  for (int64_t i = 0; i < e; ++i) {
    const uint32_t ki = key(i);
    rank += ki > kj || (ki == kj && i < j);
  }
  return rank;
}

// probs [N, E], expert_ids [N, K] (i32), weights [N, K] from logits [N, E].
template <typename T>
cudaError_t router_select(const T* logits, int64_t n, int64_t e, int64_t k, bool norm_topk_prob, T* probs,
                          int32_t* expert_ids, T* weights, cudaStream_t stream);

// grad_logits [N, E] (=) = p ⊙ (dp − p·dp) + grad_logits_extra, dp = grad_probs + the weights'
// gradient on the selected experts (ops/router.h). grad_weights, grad_probs and
// grad_logits_extra may each be nullptr (absent).
template <typename T>
cudaError_t router_logits_backward(const T* grad_weights, const T* grad_probs, const T* grad_logits_extra,
                                   const T* probs, const int32_t* expert_ids, const T* weights, int64_t n, int64_t e,
                                   int64_t k, bool norm_topk_prob, T* grad_logits, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_ROUTER_LAUNCHERS(T)                                                                            \
  template cudaError_t router_select<T>(const T*, int64_t, int64_t, int64_t, bool, T*, int32_t*, T*, cudaStream_t); \
  template cudaError_t router_logits_backward<T>(const T*, const T*, const T*, const T*, const int32_t*, const T*,  \
                                                 int64_t, int64_t, int64_t, bool, T*, cudaStream_t);

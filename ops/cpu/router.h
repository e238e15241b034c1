// CPU kernels for ops/router.h. Contiguous row-major inputs.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// logits = x · w_routerᵀ; probs = softmax(logits); ids/weights = top-k of probs (ties: lower index).
template <typename T>
void router_forward(const T* x, const T* w_router, int64_t n, int64_t d, int64_t e, int64_t k, bool norm_topk_prob,
                    T* logits, T* probs, int32_t* expert_ids, T* weights);

// grad_logits [N, E] (=) from the three optional upstream gradients (nullptr: absent).
template <typename T>
void router_logits_backward(const T* grad_weights, const T* grad_probs, const T* grad_logits_extra, const T* probs,
                            const int32_t* expert_ids, const T* weights, int64_t n, int64_t e, int64_t k,
                            bool norm_topk_prob, T* grad_logits);

}  // namespace mone::ops::cpu

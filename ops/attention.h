// Causal multi-head scaled dot-product attention with grouped kv heads (GQA).
//
// Shape letters: B batch, Tq query rows, Tk key rows, H query heads, Hkv kv heads, hd head dim.
//   q [B, Tq, H, hd], k and v [B, Tk, Hkv, hd] -> out [B, Tq, H, hd], probs [B, H, Tq, Tk].
// Scores are q·k / sqrt(hd). Causal with offset Tk - Tq: query i attends to keys j <= i + Tk - Tq,
// i.e. the queries are the last Tq positions of the Tk keys (Tq = Tk in training; Tq = 1 with a
// KV cache at decode). Hence Tk >= Tq. H % Hkv == 0, and query head h uses kv head h / (H/Hkv).
// The forward returns the softmax probabilities (0 beyond the causal limit) for the backward.
// Backward functions return fresh gradients (=), never accumulate into existing ones.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

struct AttentionForward {
  Tensor out;    // [B, Tq, H, hd]
  Tensor probs;  // [B, H, Tq, Tk], the saved softmax
};

StatusOr<AttentionForward> attention(const Tensor& q, const Tensor& k, const Tensor& v);

struct AttentionGrads {
  Tensor grad_q;  // [B, Tq, H, hd]
  Tensor grad_k;  // [B, Tk, Hkv, hd]
  Tensor grad_v;  // [B, Tk, Hkv, hd]
};

// With S = q kᵀ / sqrt(hd), P = softmax(S) (causal), out = P v:
//   grad_v = Pᵀ grad_out,  dP = grad_out vᵀ,  dS = P ⊙ (dP - rowsum(P ⊙ dP)),
//   grad_q = dS k / sqrt(hd),  grad_k = dSᵀ q / sqrt(hd),
// with grad_k and grad_v summed over the H/Hkv query heads that share a kv head.
StatusOr<AttentionGrads> attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                            const Tensor& probs);

}  // namespace mone::ops

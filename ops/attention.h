// Causal multi-head scaled dot-product attention with grouped kv heads (GQA).
//
// Shape letters: B batch, Tq query rows, Tk key rows, H query heads, Hkv kv heads, hd head dim.
//   q [B, Tq, H, hd], k and v [B, Tk, Hkv, hd] -> out [B, Tq, H, hd], lse [B, H, Tq].
// Scores are q·k / sqrt(hd). Causal with offset Tk - Tq: query i attends to keys j <= i + Tk - Tq,
// i.e. the queries are the last Tq positions of the Tk keys (Tq = Tk in training; Tq = 1 with a
// KV cache at decode). Hence Tk >= Tq. H % Hkv == 0, and query head h uses kv head h / (H/Hkv).
//
// Nothing of size Tq×Tk is kept (flash-attention style): the forward saves the row logsumexp
// lse_i = log Σ_j exp(S_ij), from which the backward recomputes P = exp(S - lse) block by block.
// lse is f64 for f64 inputs and f32 otherwise (also for bf16 on CUDA, which accumulates in f32).
// Backward functions return fresh gradients (=), never accumulate into existing ones.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

struct AttentionForward {
  Tensor out;  // [B, Tq, H, hd]
  Tensor lse;  // [B, H, Tq], log Σ_j exp(S_ij) over the keys query i sees
};

// f32 or f64 on the CPU; f32 or bf16 on CUDA (head dim up to 128 there).
StatusOr<AttentionForward> attention(const Tensor& q, const Tensor& k, const Tensor& v);

struct AttentionGrads {
  Tensor grad_q;  // [B, Tq, H, hd]
  Tensor grad_k;  // [B, Tk, Hkv, hd]
  Tensor grad_v;  // [B, Tk, Hkv, hd]
};

// With S = q kᵀ / sqrt(hd), P = exp(S - lse) (causal; 0 beyond the limit), out = P v:
//   grad_v = Pᵀ grad_out,  dP = grad_out vᵀ,  D = rowsum(grad_out ⊙ out) (= rowsum(P ⊙ dP)),
//   dS = P ⊙ (dP - D),  grad_q = dS k / sqrt(hd),  grad_k = dSᵀ q / sqrt(hd),
// with grad_k and grad_v summed over the H/Hkv query heads that share a kv head.
// `forward` is what attention(q, k, v) returned.
StatusOr<AttentionGrads> attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                            const AttentionForward& forward);

}  // namespace mone::ops

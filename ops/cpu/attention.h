// CPU kernels for ops/attention.h: causal multi-head attention with grouped kv heads.
//
// Shape letters: B batch, Tq query rows, Tk key rows (Tk >= Tq), H query heads, Hkv kv heads
// (H % Hkv == 0; query head h reads kv head h / (H / Hkv)), hd head dim.
// Contiguous inputs: q [B, Tq, H, hd], k and v [B, Tk, Hkv, hd]. One (batch, head) pair per
// OpenMP iteration; its products go through BLAS, reading the head's columns in place. Scores
// live only in a per-iteration scratch of one block of query rows × Tk.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

struct AttentionDims {
  int64_t b, tq, tk, h, hkv, hd;
};

// out [B, Tq, H, hd] and lse [B, H, Tq] (the log of each row's softmax denominator, scores
// included) are overwritten. Query i sees keys j <= i + Tk - Tq.
template <typename T>
void attention_forward(T* out, T* lse, const T* q, const T* k, const T* v, const AttentionDims& dims);

// grad_q, grad_k, grad_v (shaped like q, k, v) are overwritten (=). The probabilities are
// recomputed from q, k and lse, one block of query rows at a time.
template <typename T>
void attention_backward(T* grad_q, T* grad_k, T* grad_v, const T* grad_out, const T* q, const T* k, const T* v,
                        const T* out, const T* lse, const AttentionDims& dims);

}  // namespace mone::ops::cpu

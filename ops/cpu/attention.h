// CPU kernels for ops/attention.h: causal multi-head attention with grouped kv heads.
//
// Shape letters: B batch, Tq query rows, Tk key rows (Tk >= Tq), H query heads, Hkv kv heads
// (H % Hkv == 0; query head h reads kv head h / (H / Hkv)), hd head dim.
// Contiguous inputs: q [B, Tq, H, hd], k and v [B, Tk, Hkv, hd]. One (batch, head) pair per
// OpenMP iteration; its two products go through BLAS, reading the head's columns in place.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

struct AttentionDims {
  int64_t b, tq, tk, h, hkv, hd;
};

// out [B, Tq, H, hd] and probs [B, H, Tq, Tk] are overwritten. Query i sees keys j <= i + Tk - Tq;
// probs is exactly 0 beyond that limit.
template <typename T>
void attention_forward(T* out, T* probs, const T* q, const T* k, const T* v, const AttentionDims& dims);

// grad_q, grad_k, grad_v (shaped like q, k, v) are overwritten (=).
template <typename T>
void attention_backward(T* grad_q, T* grad_k, T* grad_v, const T* grad_out, const T* q, const T* k, const T* v,
                        const T* probs, const AttentionDims& dims);

}  // namespace mone::ops::cpu

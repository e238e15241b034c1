// CUDA launchers for ops/attention.h: causal attention with grouped kv heads, flash style (no
// Tq×Tk matrix), forward and a deterministic backward. f32 or bf16 elements, f32 arithmetic; lse
// and the backward's delta scratch are f32. Pointers are device pointers to contiguous tensors.
// Each launches on `stream` and returns the first launch error (cuda/launch.h).
//
// Shape letters: B batch, Tq query rows, Tk key rows (Tk >= Tq), H query heads, Hkv kv heads
// (H % Hkv == 0), hd head dim (1..kAttentionMaxHeadDim).
//   q, out, grad_q, grad_out [B, Tq, H, hd]; k, v, grad_k, grad_v [B, Tk, Hkv, hd]; lse, delta [B, H, Tq].
// The kernels are in cuda/attention_tiles.h (their block bodies) and cuda/attention.cu.
#pragma once

#include <cstdint>

#include "core/bf16.h"
#include "cuda/launch.h"

namespace mone::cuda {

struct AttentionDims {
  int64_t b, tq, tk, h, hkv, hd;
};

constexpr int64_t kAttentionMaxHeadDim = 128;

// out = softmax(q kᵀ / sqrt(hd), causal) v and lse = the rows' logsumexp (natural log).
cudaError_t attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                              const AttentionDims& dims, cudaStream_t stream);
cudaError_t attention_forward(bf16* out, float* lse, const bf16* q, const bf16* k, const bf16* v,
                              const AttentionDims& dims, cudaStream_t stream);

// grad_q, grad_k, grad_v (=) from grad_out and the forward's out and lse; delta [B, H, Tq] is
// scratch the caller provides (rowsum(grad_out ⊙ out)).
cudaError_t attention_backward(float* grad_q, float* grad_k, float* grad_v, float* delta, const float* grad_out,
                               const float* q, const float* k, const float* v, const float* out, const float* lse,
                               const AttentionDims& dims, cudaStream_t stream);
cudaError_t attention_backward(bf16* grad_q, bf16* grad_k, bf16* grad_v, float* delta, const bf16* grad_out,
                               const bf16* q, const bf16* k, const bf16* v, const bf16* out, const float* lse,
                               const AttentionDims& dims, cudaStream_t stream);

}  // namespace mone::cuda

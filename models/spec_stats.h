// What a ModelSpec costs: parameters (total and activated per token), training FLOPs per token,
// and the memory of one training step. Pure arithmetic on the spec: nothing is allocated.
//
// Letters (MONE.md): V vocab, d hidden, L layers, H heads, kv key/value heads, hd = d/H,
// E routed experts, K experts per token, D expert width, K_N neurons kept, S shared experts,
// D_s shared width, I dense ffn width, T sequence length, B batch, N = B·T tokens.
//
// Parameters (exact; a SwiGLU of width w on d has 3·d·w weights: gate, up [w, d], down [d, w]).
// L_moe blocks route to experts, L_dense = L − L_moe are dense (spec.h is_moe_layer; a DENSE
// spec has L_moe = 0):
//   embed_tokens  V·d                  lm_head  V·d (0 when tie_word_embeddings)
//   attention     L·(2·d² + 2·d·kv·hd)         (q, o: [d, d]; k, v: [kv·hd, d])
//                 + L·(d + 2·kv·hd)  with attention_qkv_bias, + L·d with attention_output_bias
//   norms         L·2·d + d                    (two RMSNorms per block, one final)
//                 + L·(d + kv·hd)    with qk_norm
//   router        L_moe·E·d  (+ L_moe·d with shared_expert_gate)   routed experts  L_moe·E·3·d·D
//   shared        L_moe·S·3·d·D_s              dense ffn       L_dense·3·d·I
// For MONE.md's configurations (kv = H, D_s = D, S = 1, every block routed) the total is MONE.md's
//   2·V·d + L·(4d² + (E+1)·3·d·D + E·d + 2d) + d.
//
// Activated per token: every parameter except the routed experts a token does not use. A routed
// expert it uses touches all D gate rows and K_N up rows and down columns: d·D + 2·d·K_N
// (K_N = D for MOE). Shared experts count whole (3·d·D_s), or d·D_s + 2·d·K_N when sparsified.
//   activated = total − routed experts − shared + L·(K·(d·D + 2·d·K_N) + S·shared_active)
// "Non-embedding" removes embed_tokens and lm_head (V·d, or 2·V·d untied).
//
// Training FLOPs per token (forward + backward = 3 × forward, a matmul of n weights = 2n FLOPs):
//   6 · M  +  6 · L · T · d  [+ straight-through extra]
// M = activated matmul weights: activated non-embedding parameters minus norms, plus lm_head
// (V·d, also when tied). 6·L·T·d is causal attention: q·kᵀ and p·v cost 2·T·d each per token
// forward; causality halves it; ×3 for training. Norms, softmax, RoPE and the optimizer are left
// out; biases count as weights of their projection. STRAIGHT_THROUGH adds 8·d·(D − K_N) per
// routed slot per MoE layer (and 8·d·(D_s − K_N) per
// sparsified shared expert): its backward computes the dense up projection and dh, dW_up, dx for
// all neurons (MONE.md), 14·d·D + 4·d·K_N instead of HARD's 6·d·D + 12·d·K_N.
//
// Memory of a training step (an estimate; allocator slack and kernel workspaces are left out):
//   f32:  weights 4·P, grads 4·P, AdamW m and v 8·P, activations 4·A·N      (bytes, P = total)
//   bf16: weights 6·P (f32 master + bf16 copy), grads 4·P (f32 accumulation), AdamW 8·P (f32),
//         activations 2·A·N
// A = activation elements saved for backward per token:
//   per layer:  attention  4·d + 2·kv·hd + H     (block input, its norm, q, k, v, attention
//                                                 output, and each head's row logsumexp)
//                          + d + kv·hd with qk_norm (the projections before their norm)
//                          + d + 2·kv·hd with clip_qkv (q, k, v before the clamp)
//               ffn input  2·d                    (residual and its norm)
//               dense      4·I                    (gate pre-activation, act, up, product)
//               MoE/MoNE   2·E + K·(2·d + 2·D + 2·n) + S·(2·D_s + 2·n_s)
//                          + 2·d + 1 with shared_expert_gate (sigmoid, its width broadcast, the
//                          shared output)
//                          (router logits and probabilities; per routed slot: gathered input,
//                          gate pre-activation and act [D each], up and product [n each], expert
//                          output; n = K_N for GATHERED MoNE, else D; n_s = K_N when sparsified,
//                          else D_s)
//   final:      2·d + 2·V                        (final norm input and output, logits, softmax)
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "proto/model.pb.h"

namespace mone::models {

// Exact parameter counts by component (see the table above).
struct ParamBreakdown {
  int64_t embed_tokens = 0;
  int64_t lm_head = 0;  // 0 when tied
  int64_t attention = 0;
  int64_t norms = 0;
  int64_t router = 0;
  int64_t routed_experts = 0;
  int64_t shared_experts = 0;
  int64_t dense_ffn = 0;
  int64_t total() const;
};

// Bytes of one training step, by what holds them.
struct MemoryEstimate {
  double weights = 0, grads = 0, optimizer = 0, activations = 0;
  double total() const { return weights + grads + optimizer + activations; }
};

struct SpecStats {
  ParamBreakdown params;
  int64_t total_params = 0;
  int64_t embedding_params = 0;                // embed_tokens + lm_head
  int64_t activated_params = 0;                // per token, embeddings included
  int64_t activated_params_non_embedding = 0;  // per token, without embed_tokens and lm_head
  int64_t activated_matmul_params = 0;         // M of the FLOPs formula (lm_head included)
  int64_t batch_size = 0;
  int64_t seq_len = 0;
  double training_flops_per_token = 0;
  double straight_through_flops_per_token = 0;  // the STRAIGHT_THROUGH term inside it (0 for HARD)
  double activation_elements_per_token = 0;  // A
  MemoryEstimate memory_f32, memory_bf16;
};

// All of the above for a valid spec at batch B and sequence length T. Errors: an invalid spec,
// B or T < 1, or T > max_position_embeddings.
StatusOr<SpecStats> compute_spec_stats(const proto::ModelSpec& spec, int64_t batch_size,
                                       int64_t seq_len);

// The pieces, for callers that need one number (a valid spec is assumed).
ParamBreakdown count_params(const proto::ModelSpec& spec);
int64_t count_activated_params(const proto::ModelSpec& spec);  // embeddings included
double training_flops_per_token(const proto::ModelSpec& spec, int64_t seq_len);
// The straight-through extra of training_flops_per_token (0 unless MONE with STRAIGHT_THROUGH).
double straight_through_flops_per_token(const proto::ModelSpec& spec);
double activation_elements_per_token(const proto::ModelSpec& spec);

// Human-readable numbers, five significant digits: 926073856 -> "926.07M",
// 2815117312 -> "2815.1M" (millions up to 1e11, then "B"), 123456 -> "123.46K", 512 -> "512".
std::string format_param_count(int64_t count);
// 1.5 * 2^30 -> "1.50 GiB" (binary units).
std::string format_bytes(double bytes);
// 5.55e9 -> "5.55 GFLOP" (decimal units, three significant digits).
std::string format_flops(double flops);

}  // namespace mone::models

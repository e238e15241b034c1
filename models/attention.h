// Causal self-attention with RoPE and grouped kv heads (MONE.md: rotate-half RoPE on q and k,
// scale 1/sqrt(head_dim)), plus the variants of imported Hugging Face models (docs/INTEROP.md),
// each off by default:
//   q = W_q x (+ b_q),  k = W_k x (+ b_k),  v = W_v x (+ b_v)     attention_qkv_bias
//   q = RMSNorm(q) over all H·hd, k = RMSNorm(k) over all Hkv·hd  qk_norm (OLMoE)
//   q, k, v = clamp(·, −clip, clip)                              clip_qkv (OLMoE)
//   then heads, RoPE, causal softmax attention, and o = W_o a (+ b_o)  attention_output_bias
//
// Shape letters: B batch, T sequence, N = B·T, d width, H query heads, Hkv kv heads, hd = d/H.
#pragma once

#include "models/module.h"

namespace mone::models {

struct AttentionConfig {
  int64_t d = 0, heads = 0, kv_heads = 0;
  double rope_theta = 10000.0;
  bool qkv_bias = false, output_bias = false;  // biases start at 0
  bool qk_norm = false;                        // norm weights start at 1
  double norm_eps = 1e-6;                      // qk_norm's eps (the model's rms_norm_eps)
  double clip_qkv = 0;                         // 0: no clamp
};

// Keys and values of earlier positions, for generation (one per layer).
struct KvCache {
  Tensor k;  // [B, S, Hkv, hd]
  Tensor v;
  int64_t length() const { return k.defined() ? k.size(1) : 0; }
};

class Attention {
 public:
  // q,k,v,o projections drawn from normal(0, std); o_proj from normal(0, out_std).
  Attention(const AttentionConfig& config, DType dtype, Generator& gen, double std, double out_std,
            const std::string& prefix);
  // x [B, T, d] -> [B, T, d]. With a cache, positions continue after the cached ones and the new
  // keys and values are appended to it (generation; run under NoGradGuard).
  StatusOr<Variable> forward(const Variable& x, KvCache* cache = nullptr) const;
  void collect(ParameterList& out) const;

 private:
  // x W_proj^T (+ bias), then (q, k) the norm and (q, k, v) the clamp.
  StatusOr<Variable> project(const Variable& x, const Variable& w, const Variable& bias, const Variable& norm) const;

  AttentionConfig config_;
  Variable q_proj_, k_proj_, v_proj_, o_proj_;  // [H·hd, d], [Hkv·hd, d], [Hkv·hd, d], [d, H·hd]
  Variable q_bias_, k_bias_, v_bias_, o_bias_;  // [H·hd], [Hkv·hd], [Hkv·hd], [d]; undefined when off
  Variable q_norm_, k_norm_;                    // [H·hd], [Hkv·hd]; undefined when off
};

}  // namespace mone::models

// Causal self-attention with RoPE and grouped kv heads (MONE.md: no biases, rotate-half RoPE on q
// and k, scale 1/sqrt(head_dim)).
//
// Shape letters: B batch, T sequence, N = B·T, d width, H query heads, Hkv kv heads, hd = d/H.
#pragma once

#include "models/module.h"

namespace mone::models {

struct AttentionConfig {
  int64_t d = 0, heads = 0, kv_heads = 0;
  double rope_theta = 10000.0;
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
  // x [B, T, d] -> [B, T, d], computed in x's dtype (the weights are cast to it). With a cache,
  // positions continue after the cached ones and the new keys and values are appended to it
  // (generation; run under NoGradGuard).
  StatusOr<Variable> forward(const Variable& x, KvCache* cache = nullptr) const;
  void collect(ParameterList& out) const;

 private:
  AttentionConfig config_;
  Variable q_proj_, k_proj_, v_proj_, o_proj_;  // [H·hd, d], [Hkv·hd, d], [Hkv·hd, d], [d, H·hd]
};

}  // namespace mone::models

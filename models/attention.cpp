#include "models/attention.h"

#include "autograd/attention.h"
#include "autograd/cast.h"
#include "autograd/matmul.h"
#include "autograd/rope.h"
#include "autograd/shape.h"

namespace mone::models {

Attention::Attention(const AttentionConfig& c, DType dtype, Generator& gen, double std, double out_std,
                     const std::string& prefix)
    : config_(c) {
  const int64_t hd = c.d / c.heads;
  q_proj_ = normal_parameter({c.heads * hd, c.d}, dtype, gen, std, prefix + "q_proj.weight");
  k_proj_ = normal_parameter({c.kv_heads * hd, c.d}, dtype, gen, std, prefix + "k_proj.weight");
  v_proj_ = normal_parameter({c.kv_heads * hd, c.d}, dtype, gen, std, prefix + "v_proj.weight");
  o_proj_ = normal_parameter({c.d, c.heads * hd}, dtype, gen, out_std, prefix + "o_proj.weight");
}

void Attention::collect(ParameterList& out) const {
  for (const Variable* p : {&q_proj_, &k_proj_, &v_proj_, &o_proj_}) out.push_back({p->name(), *p});
}

StatusOr<Variable> Attention::forward(const Variable& x, KvCache* cache) const {
  const int64_t B = x.shape()[0], T = x.shape()[1], H = config_.heads, Hkv = config_.kv_heads;
  const int64_t hd = config_.d / H;
  const int64_t offset = cache ? cache->length() : 0;
  // The weights in x's dtype (a differentiable cast under mixed precision).
  MONE_ASSIGN_OR_RETURN(Variable wq, autograd::cast(q_proj_, x.dtype()));
  MONE_ASSIGN_OR_RETURN(Variable wk, autograd::cast(k_proj_, x.dtype()));
  MONE_ASSIGN_OR_RETURN(Variable wv, autograd::cast(v_proj_, x.dtype()));
  MONE_ASSIGN_OR_RETURN(Variable wo, autograd::cast(o_proj_, x.dtype()));
  // Project, split heads, rotate q and k by their positions.
  MONE_ASSIGN_OR_RETURN(Variable q, autograd::linear(x, wq));
  MONE_ASSIGN_OR_RETURN(Variable k, autograd::linear(x, wk));
  MONE_ASSIGN_OR_RETURN(Variable v, autograd::linear(x, wv));
  MONE_ASSIGN_OR_RETURN(q, autograd::reshape(q, {B, T, H, hd}));
  MONE_ASSIGN_OR_RETURN(k, autograd::reshape(k, {B, T, Hkv, hd}));
  MONE_ASSIGN_OR_RETURN(v, autograd::reshape(v, {B, T, Hkv, hd}));
  MONE_ASSIGN_OR_RETURN(q, autograd::rope(q, offset, config_.rope_theta));
  MONE_ASSIGN_OR_RETURN(k, autograd::rope(k, offset, config_.rope_theta));
  if (cache != nullptr) {
    // Append this step's keys and values to the cache (the cached ones are constants: gradient
    // reaches only this step's).
    MONE_ASSIGN_OR_RETURN(k, autograd::concat({Variable(cache->k), k}, 1));
    MONE_ASSIGN_OR_RETURN(v, autograd::concat({Variable(cache->v), v}, 1));
    cache->k = k.value();
    cache->v = v.value();
  }
  MONE_ASSIGN_OR_RETURN(Variable a, autograd::attention(q, k, v));
  MONE_ASSIGN_OR_RETURN(a, autograd::reshape(a, {B, T, H * hd}));
  return autograd::linear(a, wo);
}

}  // namespace mone::models

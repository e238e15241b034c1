#include "models/attention.h"

#include "autograd/attention.h"
#include "autograd/elementwise.h"
#include "autograd/matmul.h"
#include "autograd/norm.h"
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
  // Constants, drawn from nothing: a spec without them draws exactly the same weights.
  if (c.qkv_bias) {
    q_bias_ = constant_parameter({c.heads * hd}, dtype, 0.0, prefix + "q_proj.bias");
    k_bias_ = constant_parameter({c.kv_heads * hd}, dtype, 0.0, prefix + "k_proj.bias");
    v_bias_ = constant_parameter({c.kv_heads * hd}, dtype, 0.0, prefix + "v_proj.bias");
  }
  if (c.output_bias) o_bias_ = constant_parameter({c.d}, dtype, 0.0, prefix + "o_proj.bias");
  if (c.qk_norm) {
    q_norm_ = constant_parameter({c.heads * hd}, dtype, 1.0, prefix + "q_norm.weight");
    k_norm_ = constant_parameter({c.kv_heads * hd}, dtype, 1.0, prefix + "k_norm.weight");
  }
}

void Attention::collect(ParameterList& out) const {
  for (const Variable* p : {&q_proj_, &q_bias_, &k_proj_, &k_bias_, &v_proj_, &v_bias_, &o_proj_, &o_bias_, &q_norm_,
                            &k_norm_}) {
    if (p->defined()) out.push_back({p->name(), *p});
  }
}

StatusOr<Variable> Attention::project(const Variable& x, const Variable& w, const Variable& bias,
                                      const Variable& norm) const {
  MONE_ASSIGN_OR_RETURN(Variable y, autograd::linear(x, w));
  if (bias.defined()) {
    MONE_ASSIGN_OR_RETURN(y, autograd::add(y, bias));
  }
  if (norm.defined()) {
    MONE_ASSIGN_OR_RETURN(y, autograd::rmsnorm(y, norm, config_.norm_eps));
  }
  if (config_.clip_qkv > 0) {
    MONE_ASSIGN_OR_RETURN(y, autograd::clamp(y, -config_.clip_qkv, config_.clip_qkv));
  }
  return y;
}

StatusOr<Variable> Attention::forward(const Variable& x, KvCache* cache) const {
  const int64_t B = x.shape()[0], T = x.shape()[1], H = config_.heads, Hkv = config_.kv_heads;
  const int64_t hd = config_.d / H;
  const int64_t offset = cache ? cache->length() : 0;
  // Project, split heads, rotate q and k by their positions.
  MONE_ASSIGN_OR_RETURN(Variable q, project(x, q_proj_, q_bias_, q_norm_));
  MONE_ASSIGN_OR_RETURN(Variable k, project(x, k_proj_, k_bias_, k_norm_));
  MONE_ASSIGN_OR_RETURN(Variable v, project(x, v_proj_, v_bias_, Variable()));
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
  MONE_ASSIGN_OR_RETURN(Variable o, autograd::linear(a, o_proj_));
  if (o_bias_.defined()) return autograd::add(o, o_bias_);
  return o;
}

}  // namespace mone::models

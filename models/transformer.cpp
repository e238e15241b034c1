#include "models/transformer.h"

#include <cmath>

#include "autograd/cross_entropy.h"
#include "autograd/elementwise.h"
#include "autograd/embedding.h"
#include "autograd/matmul.h"
#include "autograd/norm.h"
#include "autograd/shape.h"

namespace mone::models {

namespace {

// The FFN of a routed block (moe) or of a dense one (the spec's intermediate_size).
FfnConfig ffn_config(const proto::ModelSpec& s, bool moe) {
  FfnConfig c;
  c.d = s.hidden_size();
  if (!moe) {
    c.width = s.intermediate_size();
  } else {
    c.experts = s.num_experts();
    c.top_k = s.num_experts_per_tok();
    c.width = s.moe_intermediate_size();
    c.neuron_topk = effective_neuron_topk(s);
    c.shared_experts = s.num_shared_experts();
    c.shared_width = shared_expert_width(s);
    c.shared_neuron_topk = shared_expert_neuron_topk(s);
    c.norm_topk_prob = s.norm_topk_prob();
    c.shared_expert_gate = s.shared_expert_gate();
  }
  c.act = s.hidden_act() == proto::ModelSpec::SIGMOID ? ops::Activation::kSigmoid : ops::Activation::kSilu;
  c.estimator = s.neuron_topk_backward() == proto::ModelSpec::STRAIGHT_THROUGH ? ops::TopkBackward::kStraightThrough
                                                                               : ops::TopkBackward::kHard;
  c.strategy = s.mone_strategy() == proto::ModelSpec::MASKED_DENSE ? ops::MoneStrategy::kMaskedDense
                                                                   : ops::MoneStrategy::kGathered;
  c.neuron_loss_form =
      s.neuron_aux_loss_form() == proto::ModelSpec::RAW ? ops::NeuronLossForm::kRaw : ops::NeuronLossForm::kNormalized;
  return c;
}

// total = ce + Σ coef·term over the defined terms.
StatusOr<Variable> total_loss(const Variable& ce, const std::vector<std::pair<double, Variable>>& terms) {
  Variable total = ce;
  for (const auto& [coef, term] : terms) {
    if (!term.defined() || coef == 0.0) continue;
    MONE_ASSIGN_OR_RETURN(Variable scaled, autograd::scale(term, coef));
    MONE_ASSIGN_OR_RETURN(total, autograd::add(total, scaled));
  }
  return total;
}

}  // namespace

StatusOr<std::unique_ptr<Transformer>> Transformer::create(const proto::ModelSpec& spec, uint64_t seed, DType dtype) {
  MONE_RETURN_IF_ERROR(validate_model_spec(spec, spec.name().empty() ? "<spec>" : spec.name()));
  std::unique_ptr<Transformer> m(new Transformer());
  m->spec_ = spec;
  m->dtype_ = dtype;
  Generator gen(seed);
  const int64_t d = spec.hidden_size(), V = spec.vocab_size(), L = spec.num_hidden_layers();
  const double std = spec.initializer_range();
  const double out_std = std / std::sqrt(2.0 * static_cast<double>(L));

  m->embed_ = normal_parameter({V, d}, dtype, gen, std, "model.embed_tokens.weight");
  m->params_.push_back({m->embed_.name(), m->embed_});
  AttentionConfig ac{d, spec.num_attention_heads(), num_kv_heads(spec), spec.rope_theta()};
  ac.qkv_bias = spec.attention_qkv_bias();
  ac.output_bias = spec.attention_output_bias();
  ac.qk_norm = spec.qk_norm();
  ac.norm_eps = spec.rms_norm_eps();
  ac.clip_qkv = spec.clip_qkv();
  for (int64_t i = 0; i < L; ++i) {
    const std::string prefix = absl::StrCat("model.layers.", i, ".");
    Block b;
    b.input_norm = constant_parameter({d}, dtype, 1.0, prefix + "input_layernorm.weight");
    m->params_.push_back({b.input_norm.name(), b.input_norm});
    b.attention = std::make_unique<Attention>(ac, dtype, gen, std, out_std, prefix + "self_attn.");
    b.attention->collect(m->params_);
    b.post_attention_norm = constant_parameter({d}, dtype, 1.0, prefix + "post_attention_layernorm.weight");
    m->params_.push_back({b.post_attention_norm.name(), b.post_attention_norm});
    if (is_moe_layer(spec, i)) {
      b.ffn = std::make_unique<MoeFfn>(ffn_config(spec, true), dtype, gen, std, out_std, prefix + "mlp.");
    } else {
      b.ffn = std::make_unique<DenseFfn>(ffn_config(spec, false), dtype, gen, std, out_std, prefix + "mlp.");
    }
    b.ffn->collect(m->params_);
    m->blocks_.push_back(std::move(b));
  }
  m->final_norm_ = constant_parameter({d}, dtype, 1.0, "model.norm.weight");
  m->params_.push_back({m->final_norm_.name(), m->final_norm_});
  if (spec.tie_word_embeddings()) {
    m->lm_head_ = m->embed_;
  } else {
    m->lm_head_ = normal_parameter({V, d}, dtype, gen, std, "lm_head.weight");
    m->params_.push_back({m->lm_head_.name(), m->lm_head_});
  }
  return m;
}

StatusOr<ModelOutput> Transformer::forward(const Tensor& ids, const Tensor& targets,
                                           std::vector<KvCache>* caches) const {
  if (ids.dim() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("model forward: ids must be [B, T], got ", ids.describe()));
  }
  const int64_t B = ids.size(0), T = ids.size(1), N = B * T, d = spec_.hidden_size();
  const int64_t past = (caches && !caches->empty()) ? (*caches)[0].length() : 0;
  if (past + T > spec_.max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat("model forward: sequence length ", past + T,
                                                   " exceeds max_position_embeddings ", spec_.max_position_embeddings()));
  }
  if (caches && caches->size() != blocks_.size()) caches->resize(blocks_.size());
  const double eps = spec_.rms_norm_eps();

  ModelOutput out;
  MONE_ASSIGN_OR_RETURN(Variable x, autograd::embedding(embed_, ids));  // [B, T, d]
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block& b = blocks_[i];
    // h = x + Attn(RMSNorm(x))
    MONE_ASSIGN_OR_RETURN(Variable n1, autograd::rmsnorm(x, b.input_norm, eps));
    MONE_ASSIGN_OR_RETURN(Variable a, b.attention->forward(n1, caches ? &(*caches)[i] : nullptr));
    MONE_ASSIGN_OR_RETURN(Variable h, autograd::add(x, a));
    // out = h + Ffn(RMSNorm(h)), the FFN on the flattened tokens
    MONE_ASSIGN_OR_RETURN(Variable n2, autograd::rmsnorm(h, b.post_attention_norm, eps));
    MONE_ASSIGN_OR_RETURN(n2, autograd::reshape(n2, {N, d}));
    FfnAux aux;
    MONE_ASSIGN_OR_RETURN(Variable f, b.ffn->forward(n2, &aux));
    MONE_ASSIGN_OR_RETURN(f, autograd::reshape(f, {B, T, d}));
    MONE_ASSIGN_OR_RETURN(x, autograd::add(h, f));
    out.layers.push_back(std::move(aux));
  }
  MONE_ASSIGN_OR_RETURN(x, autograd::rmsnorm(x, final_norm_, eps));
  MONE_ASSIGN_OR_RETURN(x, autograd::reshape(x, {N, d}));
  MONE_ASSIGN_OR_RETURN(Variable logits, autograd::linear(x, lm_head_));  // [N, V]
  if (!targets.defined()) {
    out.logits = logits;
    return out;
  }
  if (targets.shape() != ids.shape()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model forward: targets ", targets.describe(), " do not match ids ", ids.describe()));
  }
  MONE_ASSIGN_OR_RETURN(Tensor flat_targets, targets.reshape({N}));
  MONE_ASSIGN_OR_RETURN(out.ce, autograd::cross_entropy(logits, flat_targets));

  std::vector<Variable> lb, z, ng;
  for (const auto& l : out.layers) {
    lb.push_back(l.load_balance);
    z.push_back(l.z_loss);
    ng.push_back(l.neuron_loss);
  }
  MONE_ASSIGN_OR_RETURN(out.load_balance, mean_of(lb));
  MONE_ASSIGN_OR_RETURN(out.z_loss, mean_of(z));
  MONE_ASSIGN_OR_RETURN(out.neuron_loss, mean_of(ng));
  MONE_ASSIGN_OR_RETURN(out.loss, total_loss(out.ce, {{spec_.router_aux_loss_coef(), out.load_balance},
                                                      {spec_.router_z_loss_coef(), out.z_loss},
                                                      {spec_.neuron_aux_loss_coef(), out.neuron_loss}}));
  return out;
}

}  // namespace mone::models

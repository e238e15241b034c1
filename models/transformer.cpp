#include "models/transformer.h"

#include <cmath>

#include "autograd/cast.h"
#include "autograd/cross_entropy.h"
#include "autograd/elementwise.h"
#include "autograd/embedding.h"
#include "autograd/matmul.h"
#include "autograd/norm.h"
#include "autograd/shape.h"
#include "ops/common.h"

namespace mone::models {

ops::NeuronSelector neuron_selector(proto::ModelSpec::NeuronSelector s) {
  switch (s) {
    case proto::ModelSpec::SIGNED_GATE: return ops::NeuronSelector::kSignedGate;
    case proto::ModelSpec::ABS_GATE_TIMES_UP: return ops::NeuronSelector::kAbsGateTimesUp;
    case proto::ModelSpec::ABS_GATE_THRESHOLD: return ops::NeuronSelector::kAbsGateThreshold;
    default: return ops::NeuronSelector::kAbsGate;
  }
}

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
  switch (s.mone_strategy()) {
    case proto::ModelSpec::MASKED_DENSE: c.strategy = ops::MoneStrategy::kMaskedDense; break;
    case proto::ModelSpec::AUTO: c.strategy = ops::MoneStrategy::kAuto; break;
    default: c.strategy = ops::MoneStrategy::kGathered; break;
  }
  c.neuron_loss_form =
      s.neuron_aux_loss_form() == proto::ModelSpec::RAW ? ops::NeuronLossForm::kRaw : ops::NeuronLossForm::kNormalized;
  c.selector = neuron_selector(s.neuron_selector());
  return c;
}

namespace {

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

// Whether a model with `params` parameters may compute in `compute` on `device`.
Status check_compute_dtype(DType params, DType compute, Device device) {
  if (compute == params) return absl::OkStatus();
  if (compute != DType::kBF16 || params != DType::kF32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "compute dtype ", dtype_name(compute), " over ", dtype_name(params),
        " parameters: a model computes in its parameters' dtype, or in bf16 over f32 parameters (mixed precision)"));
  }
  if (device.is_cuda()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("bf16 mixed precision runs on CUDA only (the CPU kernels compute in f32 and f64), and this model "
                   "is on ", device.to_string(), ": train on a GPU (--device cuda), or in f32 on the CPU"));
}

// User indices (ids, targets) on `device`, checked on the host first (ops/common.h's policy): a
// tensor already on the host is not copied for the check, one on the device is read back once.
StatusOr<Tensor> checked_indices(const char* name, const Tensor& t, const ops::IndexRange& range, Device device) {
  MONE_ASSIGN_OR_RETURN(const Tensor host, t.to(Device::cpu()));
  MONE_RETURN_IF_ERROR(ops::check_indices("model forward", host, name, range));
  return t.to(device);
}

}  // namespace

// Whether the spec's model runs on `device`: the CUDA kernels select MoNE neurons by |G| only.
Status check_runs_on(const proto::ModelSpec& spec, Device device) {
  if (!device.is_cuda() || spec.neuron_selector() == proto::ModelSpec::ABS_GATE) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrCat(
      "model spec field neuron_selector: ", proto::ModelSpec::NeuronSelector_Name(spec.neuron_selector()),
      " runs on the CPU only (the CUDA kernels select neurons by |G|, ABS_GATE); use --device cpu"));
}

StatusOr<std::unique_ptr<Transformer>> Transformer::create(const proto::ModelSpec& spec, uint64_t seed, DType dtype) {
  MONE_RETURN_IF_ERROR(validate_model_spec(spec, spec.name().empty() ? "<spec>" : spec.name()));
  std::unique_ptr<Transformer> m(new Transformer());
  m->spec_ = spec;
  m->dtype_ = dtype;
  m->compute_dtype_ = dtype;
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

StatusOr<ModelOutput> Transformer::forward(const Tensor& ids, const Tensor& targets, std::vector<KvCache>* caches,
                                           bool capture_selections) const {
  if (ids.dim() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("model forward: ids must be [B, T], got ", ids.describe()));
  }
  const int64_t B = ids.size(0), T = ids.size(1), N = B * T, d = spec_.hidden_size();
  const int64_t past = (caches && !caches->empty()) ? (*caches)[0].length() : 0;
  if (past + T > spec_.max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat("model forward: sequence length ", past + T,
                                                   " exceeds max_position_embeddings ", spec_.max_position_embeddings()));
  }
  if (targets.defined() && targets.shape() != ids.shape()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model forward: targets ", targets.describe(), " do not match ids ", ids.describe()));
  }
  const Device device = this->device();
  const int64_t V = spec_.vocab_size();
  MONE_ASSIGN_OR_RETURN(const Tensor ids_here, checked_indices("ids", ids, {V, "V"}, device));
  Tensor targets_here;
  if (targets.defined()) {
    MONE_ASSIGN_OR_RETURN(targets_here, checked_indices("targets", targets, {V, "V", -1, "ignore_index"}, device));
  }
  if (caches && caches->size() != blocks_.size()) caches->resize(blocks_.size());
  const double eps = spec_.rms_norm_eps();
  // Each use of a weight in the compute dtype (itself unless mixed precision casts it).
  auto w = [this](const Variable& weight) { return autograd::cast(weight, compute_dtype_); };

  ModelOutput out;
  MONE_ASSIGN_OR_RETURN(Variable embed, w(embed_));
  MONE_ASSIGN_OR_RETURN(Variable x, autograd::embedding(embed, ids_here));  // [B, T, d]
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block& b = blocks_[i];
    // h = x + Attn(RMSNorm(x))
    MONE_ASSIGN_OR_RETURN(Variable input_norm, w(b.input_norm));
    MONE_ASSIGN_OR_RETURN(Variable n1, autograd::rmsnorm(x, input_norm, eps));
    MONE_ASSIGN_OR_RETURN(Variable a, b.attention->forward(n1, caches ? &(*caches)[i] : nullptr));
    MONE_ASSIGN_OR_RETURN(Variable h, autograd::add(x, a));
    // out = h + Ffn(RMSNorm(h)), the FFN on the flattened tokens
    MONE_ASSIGN_OR_RETURN(Variable post_attention_norm, w(b.post_attention_norm));
    MONE_ASSIGN_OR_RETURN(Variable n2, autograd::rmsnorm(h, post_attention_norm, eps));
    MONE_ASSIGN_OR_RETURN(n2, autograd::reshape(n2, {N, d}));
    FfnAux aux;
    aux.capture = capture_selections;
    MONE_ASSIGN_OR_RETURN(Variable f, b.ffn->forward(n2, &aux));
    MONE_ASSIGN_OR_RETURN(f, autograd::reshape(f, {B, T, d}));
    MONE_ASSIGN_OR_RETURN(x, autograd::add(h, f));
    out.layers.push_back(std::move(aux));
  }
  MONE_ASSIGN_OR_RETURN(Variable final_norm, w(final_norm_));
  MONE_ASSIGN_OR_RETURN(x, autograd::rmsnorm(x, final_norm, eps));
  MONE_ASSIGN_OR_RETURN(x, autograd::reshape(x, {N, d}));
  MONE_ASSIGN_OR_RETURN(Variable lm_head, w(lm_head_));
  MONE_ASSIGN_OR_RETURN(Variable logits, autograd::linear(x, lm_head));  // [N, V]
  if (!targets.defined()) {
    out.logits = logits;
    return out;
  }
  MONE_ASSIGN_OR_RETURN(Tensor flat_targets, targets_here.reshape({N}));
  // In f32 for bf16 logits (ops/cross_entropy.h): the loss terms below add up in f32.
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

Device Transformer::device() const { return params_.front().param.device(); }

Status Transformer::set_compute_dtype(DType dtype) {
  MONE_RETURN_IF_ERROR(check_compute_dtype(dtype_, dtype, device()));
  compute_dtype_ = dtype;
  return absl::OkStatus();
}

Status Transformer::to(Device device) {
  if (device == this->device()) return absl::OkStatus();
  MONE_RETURN_IF_ERROR(check_runs_on(spec_, device));
  MONE_RETURN_IF_ERROR(check_compute_dtype(dtype_, compute_dtype_, device));
  std::vector<Tensor> moved;
  for (const NamedParameter& p : params_) {
    StatusOr<Tensor> t = p.param.value().to(device);
    if (!t.ok()) {
      return Status(t.status().code(), absl::StrCat("moving the model to ", device.to_string(), ": parameter ", p.name,
                                                    " (", p.param.value().describe(), "): ", t.status().message()));
    }
    moved.push_back(*std::move(t));
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    Variable v = params_[i].param;  // a handle: the modules hold the same variable
    v.zero_grad();
    v.set_value(std::move(moved[i]));
  }
  return absl::OkStatus();
}

}  // namespace mone::models

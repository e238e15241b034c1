#include "train/optimizer.h"

#include <cmath>
#include <set>
#include <unordered_map>

namespace mone::train {

StatusOr<std::vector<Tensor>> reduce_gradients(models::ParameterList& params, dist::DataParallel* parallel) {
  // A parameter no token reached this step (an idle expert) has no gradient: it gets zeros, so
  // every parameter sees the same step count and its momentum and decay still apply, and every
  // rank sends the same buffers.
  std::vector<Tensor> grads;
  for (auto& p : params) {
    if (!p.param.has_grad()) {
      MONE_ASSIGN_OR_RETURN(Tensor zero, Tensor::zeros_like(p.param.value()));
      p.param.set_grad(zero);
    } else if (!p.param.grad().is_contiguous()) {
      p.param.set_grad(p.param.grad().contiguous());
    }
    grads.push_back(p.param.grad());
  }
  // Data parallelism happens here, and only here: every gradient averaged over the ranks, in the
  // ParameterList's fixed order. One process: the gradients are already the full batch's.
  if (parallel != nullptr) MONE_RETURN_IF_ERROR(parallel->average(grads));
  return grads;
}

StatusOr<autograd::GradReadyHook> overlap_gradient_reduce(const models::ParameterList& params,
                                                          dist::DataParallel& parallel) {
  MONE_RETURN_IF_ERROR(parallel.begin_overlap());
  std::unordered_map<const autograd::VariableImpl*, size_t> index;
  for (size_t i = 0; i < params.size(); ++i) index[params[i].param.impl()] = i;
  return autograd::GradReadyHook([index = std::move(index), &parallel](const autograd::Variable& leaf) -> Status {
    const auto it = index.find(leaf.impl());
    if (it == index.end()) return absl::OkStatus();
    return parallel.grad_ready(it->second, leaf.grad());
  });
}

bool decays_weight(const models::NamedParameter& p, bool decay_norms_and_embeddings) {
  if (decay_norms_and_embeddings) return true;
  return p.param.value().dim() >= 2 && p.name != "model.embed_tokens.weight";
}

void zero_grads(models::ParameterList& params) {
  for (auto& p : params) p.param.zero_grad();
}

StatusOr<AdamW> AdamW::create(const models::ParameterList& params, const OptimizerConfig& config) {
  AdamW opt;
  opt.config_ = config;
  std::set<std::string> seen;
  for (const auto& p : params) {
    if (!seen.insert(p.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("AdamW: parameter ", p.name, " is listed twice"));
    }
    Tensor m, v;  // undefined: ZeRO-1 gave this parameter to another rank
    if (config.parallel == nullptr || config.parallel->owns(opt.names_.size())) {
      MONE_ASSIGN_OR_RETURN(m, Tensor::zeros_like(p.param.value()));
      MONE_ASSIGN_OR_RETURN(v, Tensor::zeros_like(p.param.value()));
    }
    opt.names_.push_back(p.name);
    opt.m_.push_back(std::move(m));
    opt.v_.push_back(std::move(v));
    opt.decay_.push_back(decays_weight(p, config.decay_norms_and_embeddings));
  }
  return opt;
}

StatusOr<StepResult> AdamW::step(models::ParameterList& params, double lr, double loss) {
  MONE_CHECK_EQ(params.size(), names_.size()) << "AdamW::step: the parameter list changed size";
  MONE_ASSIGN_OR_RETURN(std::vector<Tensor> grads, reduce_gradients(params, config_.parallel));

  // Clipping is fused into the update (grad_scale): gradients are read, never written, so two
  // parameters may share one gradient tensor (autograd/variable.h, grad_owned).
  StepResult result;
  MONE_ASSIGN_OR_RETURN(result.grad_norm, ops::global_grad_norm(grads));
  const bool clip = config_.grad_clip > 0 && result.grad_norm > config_.grad_clip;
  const double grad_scale = clip ? config_.grad_clip / (result.grad_norm + 1e-6) : 1.0;
  if (!std::isfinite(loss) || !std::isfinite(result.grad_norm)) {
    zero_grads(params);
    return result;  // applied = false: the caller warns and counts
  }

  ++step_;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!m_[i].defined()) continue;  // ZeRO-1: its owner updates it
    ops::AdamWParams hp = config_.adamw;
    hp.lr = lr;
    hp.weight_decay = decay_[i] ? config_.adamw.weight_decay : 0.0;
    hp.grad_scale = grad_scale;
    Tensor value = params[i].param.value();
    MONE_RETURN_IF_ERROR(ops::adamw_update(value, grads[i], m_[i], v_[i], hp, step_));
  }
  zero_grads(params);
  if (config_.parallel != nullptr && config_.parallel->shards_optimizer_state()) {
    std::vector<Tensor> values;
    for (const auto& p : params) values.push_back(p.param.value());
    MONE_RETURN_IF_ERROR(config_.parallel->broadcast_from_owners(values, /*receive=*/true));
  }
  result.applied = true;
  return result;
}

Status AdamW::load_state(const std::vector<Tensor>& m, const std::vector<Tensor>& v, int64_t step,
                         const std::string& source) {
  if (m.size() != m_.size() || v.size() != v_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": optimizer state for ", m.size(),
                                                   " parameters, the model has ", m_.size()));
  }
  if (step < 0) return absl::InvalidArgumentError(absl::StrCat(source, ": optimizer step ", step, " < 0"));
  for (size_t i = 0; i < m_.size(); ++i) {
    if (!m_[i].defined()) continue;  // ZeRO-1: another rank's share
    for (const auto& [dst, src, what] : {std::tuple{&m_[i], &m[i], ".exp_avg"}, std::tuple{&v_[i], &v[i], ".exp_avg_sq"}}) {
      if (src->shape() != dst->shape()) {
        return absl::InvalidArgumentError(absl::StrCat(source, ": ", names_[i], what, " has shape ",
                                                       shape_string(src->shape()), ", expected ",
                                                       shape_string(dst->shape())));
      }
      MONE_RETURN_IF_ERROR(dst->copy_from(*src));
    }
  }
  step_ = step;
  return absl::OkStatus();
}

OptimizerConfig optimizer_config(const proto::TrainSpec& spec) {
  OptimizerConfig c;
  c.adamw = {spec.lr(), spec.beta1(), spec.beta2(), spec.eps(), spec.weight_decay()};
  c.grad_clip = spec.grad_clip();
  c.decay_norms_and_embeddings = spec.decay_norms_and_embeddings();
  return c;
}

}  // namespace mone::train

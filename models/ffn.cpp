#include "models/ffn.h"

#include "autograd/activation.h"
#include "autograd/elementwise.h"
#include "autograd/matmul.h"
#include "autograd/moe.h"
#include "ops/moe_dispatch.h"
#include "ops/moe_losses.h"

namespace mone::models {

SwigluWeights::SwigluWeights(int64_t d, int64_t width, DType dtype, Generator& gen, double std, double out_std,
                             const std::string& prefix)
    : gate(normal_parameter({width, d}, dtype, gen, std, prefix + "gate_proj.weight")),
      up(normal_parameter({width, d}, dtype, gen, std, prefix + "up_proj.weight")),
      down(normal_parameter({d, width}, dtype, gen, out_std, prefix + "down_proj.weight")),
      prefix_(prefix) {}

SwigluWeights::SwigluWeights(int64_t experts, int64_t d, int64_t width, DType dtype, Generator& gen, double std,
                             double out_std, const std::string& prefix)
    : prefix_(prefix), experts_(experts) {
  // Stacked names (not in any checkpoint): prefix + "gate_proj.weight" with prefix "...experts.".
  gate = Variable(Tensor::zeros({experts, width, d}, dtype), true, prefix + "gate_proj.weight");
  up = Variable(Tensor::zeros({experts, width, d}, dtype), true, prefix + "up_proj.weight");
  down = Variable(Tensor::zeros({experts, d, width}, dtype), true, prefix + "down_proj.weight");
  // Expert by expert, in the order of per-expert parameters, so the draws are those of E
  // separate experts.
  for (int64_t e = 0; e < experts; ++e) {
    for (auto [stacked, shape, s] : {std::tuple{&gate, Shape{width, d}, std}, std::tuple{&up, Shape{width, d}, std},
                                     std::tuple{&down, Shape{d, width}, out_std}}) {
      Tensor slice = value_or_die(stacked->value().slice(0, e, e + 1));
      MONE_CHECK_OK(slice.copy_from(value_or_die(randn(shape, dtype, gen, 0.0, s).reshape(slice.shape()))));
    }
  }
}

std::vector<std::string> SwigluWeights::slice_names(const std::string& kind) const {
  std::vector<std::string> names;
  for (int64_t e = 0; e < experts_; ++e) names.push_back(absl::StrCat(prefix_, e, ".", kind, ".weight"));
  return names;
}

void SwigluWeights::collect(ParameterList& out) const {
  out.push_back({gate.name(), gate, slice_names("gate_proj")});
  out.push_back({up.name(), up, slice_names("up_proj")});
  out.push_back({down.name(), down, slice_names("down_proj")});
}

DenseFfn::DenseFfn(const FfnConfig& c, DType dtype, Generator& gen, double std, double out_std,
                   const std::string& prefix)
    : config_(c), weights_(c.d, c.width, dtype, gen, std, out_std, prefix) {}

StatusOr<Variable> DenseFfn::forward(const Variable& x, FfnAux*) const {
  MONE_ASSIGN_OR_RETURN(auto r, autograd::mone_ffn(x, Tensor(), weights_.gate, weights_.up, weights_.down,
                                                   config_.expert(config_.width)));
  return r.y;
}

MoeFfn::MoeFfn(const FfnConfig& c, DType dtype, Generator& gen, double std, double out_std,
               const std::string& prefix)
    : config_(c),
      router_(normal_parameter({c.experts, c.d}, dtype, gen, std, prefix + "gate.weight")),
      experts_(c.experts, c.d, c.width, dtype, gen, std, out_std, prefix + "experts.") {
  for (int64_t s = 0; s < c.shared_experts; ++s) {
    const std::string name = c.shared_experts == 1 ? prefix + "shared_expert." : absl::StrCat(prefix, "shared_experts.", s, ".");
    shared_.emplace_back(c.d, c.shared_width, dtype, gen, std, out_std, name);
  }
  if (c.shared_expert_gate) shared_gate_ = normal_parameter({1, c.d}, dtype, gen, std, prefix + "shared_expert_gate.weight");
}

void MoeFfn::collect(ParameterList& out) const {
  out.push_back({router_.name(), router_});
  experts_.collect(out);
  for (const auto& s : shared_) s.collect(out);
  if (shared_gate_.defined()) out.push_back({shared_gate_.name(), shared_gate_});
}

StatusOr<Variable> MoeFfn::gate_rows(const Variable& x, const Variable& shared) const {
  MONE_ASSIGN_OR_RETURN(Variable logit, autograd::linear(x, shared_gate_));  // [N, 1]
  MONE_ASSIGN_OR_RETURN(Variable g, autograd::sigmoid(logit));
  // The elementwise ops broadcast suffixes only, so [N, 1] becomes [N, d] as the outer product
  // with a row of ones (exact: each entry is g · 1).
  MONE_ASSIGN_OR_RETURN(Tensor ones, Tensor::full({1, config_.d}, 1.0, x.value().dtype()).to(x.value().device()));
  MONE_ASSIGN_OR_RETURN(Variable g_wide, autograd::matmul(g, Variable(ones)));
  return autograd::mul(g_wide, shared);
}

StatusOr<Variable> MoeFfn::forward(const Variable& x, FfnAux* aux) const {
  const FfnConfig& c = config_;
  // 1. Route: probabilities over all E experts, the top K per token and their weights.
  MONE_ASSIGN_OR_RETURN(auto route, autograd::router(x, router_, c.top_k, c.norm_topk_prob));
  // 2. Dispatch: a counting sort of (token, slot) by expert; each expert's rows are contiguous.
  MONE_ASSIGN_OR_RETURN(ops::DispatchPlan plan, ops::build_dispatch(route.expert_ids, c.experts));
  MONE_ASSIGN_OR_RETURN(Variable x_perm, autograd::permute(x, plan));
  // 3. Every expert on its rows, in one op. MoNE keeps K_N neurons per row; MoE is K_N = D.
  MONE_ASSIGN_OR_RETURN(auto experts, autograd::mone_ffn(x_perm, plan.offsets, experts_.gate, experts_.up,
                                                         experts_.down, c.expert(c.neuron_topk)));
  // 4. Combine: each token's weighted sum over its K slots, in fixed slot order.
  MONE_ASSIGN_OR_RETURN(Variable y, autograd::combine(experts.y, route.weights, plan));
  // 5. Shared experts see every token (dense unless the spec sparsifies them); with the shared
  //    expert gate their sum is scaled by sigmoid(w_g · x), one factor per token.
  Variable shared;
  for (const auto& s : shared_) {
    MONE_ASSIGN_OR_RETURN(auto r, autograd::mone_ffn(x, Tensor(), s.gate, s.up, s.down, c.expert(c.shared_neuron_topk)));
    if (shared.defined()) {
      MONE_ASSIGN_OR_RETURN(shared, autograd::add(shared, r.y));
    } else {
      shared = r.y;
    }
  }
  if (shared_gate_.defined()) {
    MONE_ASSIGN_OR_RETURN(shared, gate_rows(x, shared));
  }
  if (shared.defined()) {
    MONE_ASSIGN_OR_RETURN(y, autograd::add(y, shared));
  }
  if (aux) {
    MONE_ASSIGN_OR_RETURN(aux->load_balance, autograd::load_balance_loss(route.probs, plan.counts, c.top_k));
    MONE_ASSIGN_OR_RETURN(aux->z_loss, autograd::z_loss(route.logits));
    // L_NG of this layer: the mean over the experts that received tokens.
    if (c.neuron_topk < c.width) {
      MONE_ASSIGN_OR_RETURN(aux->neuron_loss, autograd::neuron_balance_loss(experts.g, experts.idx, plan.offsets,
                                                                            c.neuron_loss_form));
    }
    aux->tokens_per_expert = plan.counts;
    aux->gate_activations = experts.g;
    aux->expert_offsets = plan.offsets;
    aux->row_pairs = plan.order;
    MONE_ASSIGN_OR_RETURN(aux->neuron_counts, ops::neuron_counts(experts.idx, plan.offsets, c.width));
  }
  return y;
}

}  // namespace mone::models

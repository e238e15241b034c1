#include "models/ffn.h"

#include "autograd/elementwise.h"
#include "autograd/moe.h"
#include "ops/moe_dispatch.h"

namespace mone::models {

SwigluWeights::SwigluWeights(int64_t d, int64_t width, DType dtype, Generator& gen, double std, double out_std,
                             const std::string& prefix)
    : gate(normal_parameter({width, d}, dtype, gen, std, prefix + "gate_proj.weight")),
      up(normal_parameter({width, d}, dtype, gen, std, prefix + "up_proj.weight")),
      down(normal_parameter({d, width}, dtype, gen, out_std, prefix + "down_proj.weight")) {}

void SwigluWeights::collect(ParameterList& out) const {
  for (const Variable* p : {&gate, &up, &down}) out.push_back({p->name(), *p});
}

namespace {
// One SwiGLU expert on rows x [n, d], keeping k_n neurons per row (k_n = width: the plain expert).
StatusOr<autograd::MoneFfnOutput> run_expert(const SwigluWeights& w, const Variable& x, int64_t k_n,
                                             const FfnConfig& c) {
  return autograd::mone_ffn(x, w.gate, w.up, w.down, k_n, c.act, c.strategy, c.estimator);
}
}  // namespace

DenseFfn::DenseFfn(const FfnConfig& c, DType dtype, Generator& gen, double std, double out_std,
                   const std::string& prefix)
    : config_(c), weights_(c.d, c.width, dtype, gen, std, out_std, prefix) {}

StatusOr<Variable> DenseFfn::forward(const Variable& x, FfnAux*) const {
  MONE_ASSIGN_OR_RETURN(auto r, run_expert(weights_, x, config_.width, config_));
  return r.y;
}

MoeFfn::MoeFfn(const FfnConfig& c, DType dtype, Generator& gen, double std, double out_std,
               const std::string& prefix)
    : config_(c) {
  router_ = normal_parameter({c.experts, c.d}, dtype, gen, std, prefix + "gate.weight");
  for (int64_t e = 0; e < c.experts; ++e) {
    experts_.emplace_back(c.d, c.width, dtype, gen, std, out_std, absl::StrCat(prefix, "experts.", e, "."));
  }
  for (int64_t s = 0; s < c.shared_experts; ++s) {
    const std::string name = c.shared_experts == 1 ? prefix + "shared_expert." : absl::StrCat(prefix, "shared_experts.", s, ".");
    shared_.emplace_back(c.d, c.shared_width, dtype, gen, std, out_std, name);
  }
}

void MoeFfn::collect(ParameterList& out) const {
  out.push_back({router_.name(), router_});
  for (const auto& e : experts_) e.collect(out);
  for (const auto& s : shared_) s.collect(out);
}

StatusOr<Variable> MoeFfn::forward(const Variable& x, FfnAux* aux) const {
  const FfnConfig& c = config_;
  // 1. Route: probabilities over all E experts, the top K per token and their weights.
  MONE_ASSIGN_OR_RETURN(auto route, autograd::router(x, router_, c.top_k, c.norm_topk_prob));
  // 2. Dispatch: a counting sort of (token, slot) by expert; each expert's rows are contiguous.
  MONE_ASSIGN_OR_RETURN(ops::DispatchPlan plan, ops::build_dispatch(route.expert_ids, c.experts));
  MONE_ASSIGN_OR_RETURN(Variable x_perm, autograd::permute(x, plan));
  MONE_ASSIGN_OR_RETURN(std::vector<Variable> segments, autograd::split_rows(x_perm, plan.offsets));
  // 3. Each expert on its segment. MoNE keeps K_N neurons per row; MoE is K_N = D.
  std::vector<Variable> outputs, neuron_terms;
  if (aux) {
    aux->tokens_per_expert.assign(c.experts, 0);
    aux->neuron_counts.assign(c.experts, std::vector<int64_t>(c.width, 0));
  }
  for (int64_t e = 0; e < c.experts; ++e) {
    const int64_t rows = segments[e].shape()[0];
    if (aux) aux->tokens_per_expert[e] = rows;
    if (rows == 0) continue;
    MONE_ASSIGN_OR_RETURN(auto r, run_expert(experts_[e], segments[e], c.neuron_topk, c));
    outputs.push_back(r.y);
    if (c.neuron_topk < c.width) {
      MONE_ASSIGN_OR_RETURN(Variable ng, autograd::neuron_balance_loss(r.g, r.idx, c.neuron_loss_form));
      neuron_terms.push_back(ng);
    }
    if (aux) {
      const int32_t* idx = r.idx.data<int32_t>();
      for (int64_t i = 0; i < r.idx.numel(); ++i) ++aux->neuron_counts[e][idx[i]];
    }
  }
  MONE_ASSIGN_OR_RETURN(Variable y_perm, autograd::concat_rows(outputs));
  // 4. Combine: each token's weighted sum over its K slots, in fixed slot order.
  MONE_ASSIGN_OR_RETURN(Variable y, autograd::combine(y_perm, route.weights, plan));
  // 5. Shared experts see every token (dense unless the spec sparsifies them).
  for (const auto& s : shared_) {
    MONE_ASSIGN_OR_RETURN(auto r, run_expert(s, x, c.shared_neuron_topk, c));
    MONE_ASSIGN_OR_RETURN(y, autograd::add(y, r.y));
  }
  if (aux) {
    MONE_ASSIGN_OR_RETURN(aux->load_balance, autograd::load_balance_loss(route.probs, plan.counts, c.top_k));
    MONE_ASSIGN_OR_RETURN(aux->z_loss, autograd::z_loss(route.logits));
    // L_NG of this layer: the mean over the experts that received tokens.
    MONE_ASSIGN_OR_RETURN(aux->neuron_loss, mean_of(neuron_terms));
  }
  return y;
}

}  // namespace mone::models

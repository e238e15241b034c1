// Differentiable MoE / MoNE ops: the router, dispatch (permute / combine), the MoNE expert FFN
// over every expert of a layer, and the auxiliary losses. Definitions, shapes and formulas:
// ops/router.h, ops/moe_dispatch.h, ops/mone_ffn.h, ops/moe_losses.h (and MONE.md).
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
// K_N neurons kept, R = N·K routed rows.
//
// A MoE / MoNE layer composes them (models/ffn.cpp), with no host reads of tensor data:
//   r      = router(x, w_router, K, norm)                         // logits, probs, weights, expert_ids
//   plan   = ops::build_dispatch(r.expert_ids, E)                 // not differentiable
//   e      = mone_ffn(permute(x, plan), plan.offsets, W_gate, W_up, W_down, {K_N, act, strategy, estimator})
//   out    = combine(e.y, r.weights, plan)
//   losses = load_balance_loss(r.probs, plan.counts, K), z_loss(r.logits),
//            neuron_balance_loss(e.g, e.idx, plan.offsets, form)
#pragma once

#include "autograd/variable.h"
#include "ops/moe_dispatch.h"
#include "ops/mone_ffn.h"
#include "ops/op_types.h"

namespace mone::autograd {

struct RouterOutput {
  Variable logits;    // [N, E]
  Variable probs;     // [N, E]
  Variable weights;   // [N, K]
  Tensor expert_ids;  // [N, K] i32; the selection carries no gradient
};
// Backward accepts gradients on any of logits (z-loss), probs (load balance) and weights (combine).
StatusOr<RouterOutput> router(const Variable& x, const Variable& w_router, int64_t k, bool norm_topk_prob);

// x [N, d] -> x_perm [N·K, d].
StatusOr<Variable> permute(const Variable& x, const ops::DispatchPlan& plan);
// y_perm [N·K, d], weights [N, K] -> out [N, d].
StatusOr<Variable> combine(const Variable& y_perm, const Variable& weights, const ops::DispatchPlan& plan);

struct MoneFfnOutput {
  Variable y;  // [R, d]
  Variable g;  // [R, D], G = act(W_gate x): the neuron-balance loss depends on it
  Tensor idx;  // [R, K_N] i32, the selected neurons (no gradient)
  ops::MoneStrategy strategy = ops::MoneStrategy::kMaskedDense;  // what ran (config's, or kAuto's pick)
};
// Every expert's rows x [R, d] grouped by offsets [E + 1] (w_gate, w_up [E, D, d], w_down [E, d, D]),
// or one expert over all rows (offsets undefined, weights [D, d], [D, d], [d, D]). The backward
// takes gradients of y and of g (either may be absent). Under kAuto the pick is for forward and
// backward when this call records (config.backward_follows is set here), for the forward alone
// otherwise (evaluation, generation).
StatusOr<MoneFfnOutput> mone_ffn(const Variable& x, const Tensor& offsets, const Variable& w_gate,
                                 const Variable& w_up, const Variable& w_down, const ops::MoneFfnConfig& config);

// 0-d losses.
StatusOr<Variable> load_balance_loss(const Variable& probs, const Tensor& counts, int64_t k);
StatusOr<Variable> z_loss(const Variable& logits);
StatusOr<Variable> neuron_balance_loss(const Variable& g, const Tensor& idx, const Tensor& offsets,
                                       ops::NeuronLossForm form);

}  // namespace mone::autograd

// Differentiable MoE / MoNE ops: the router, dispatch (permute / combine), grouped matmul, the
// MoNE expert FFN, the auxiliary losses, and row split / concat for per-expert segments.
// Definitions, shapes and formulas: ops/router.h, ops/moe_dispatch.h, ops/grouped_matmul.h,
// ops/mone_ffn.h, ops/moe_losses.h (and MONE.md).
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
// K_N neurons kept, R = N·K routed rows.
//
// A MoE / MoNE layer composes them:
//   r      = router(x, w_router, K, norm)                    // logits, probs, weights, expert_ids
//   plan   = ops::build_dispatch(r.expert_ids, E)            // not differentiable
//   parts  = split_rows(permute(x, plan), plan.offsets)      // one [T_e, d] segment per expert
//   y_e    = mone_ffn(parts[e], w_gate_e, w_up_e, w_down_e, K_N, act, strategy, estimator)  (T_e > 0)
//   out    = combine(concat_rows({y_e ...}), r.weights, plan)
//   losses = load_balance_loss(r.probs, plan.counts, K), z_loss(r.logits),
//            mean over experts with T_e > 0 of neuron_balance_loss(y_e.g, y_e.idx, form)
#pragma once

#include <vector>

#include "autograd/variable.h"
#include "ops/moe_dispatch.h"
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
// x_perm [R, I], w: E weights [O, I], offsets [E + 1] i64 -> [R, O].
StatusOr<Variable> grouped_matmul(const Variable& x_perm, const std::vector<Variable>& w, const Tensor& offsets);

struct MoneFfnOutput {
  Variable y;  // [T, d]
  Variable g;  // [T, D], G = act(W_gate x): the neuron-balance loss depends on it
  Tensor idx;  // [T, K_N] i32, the selected neurons (no gradient)
};
// One expert's segment x [T, d]; backward takes gradients of y and of g (either may be absent).
StatusOr<MoneFfnOutput> mone_ffn(const Variable& x, const Variable& w_gate, const Variable& w_up,
                                 const Variable& w_down, int64_t k_n, ops::Activation act,
                                 ops::MoneStrategy strategy, ops::TopkBackward estimator);

// 0-d losses.
StatusOr<Variable> load_balance_loss(const Variable& probs, const Tensor& counts, int64_t k);
StatusOr<Variable> z_loss(const Variable& logits);
StatusOr<Variable> neuron_balance_loss(const Variable& g, const Tensor& idx, ops::NeuronLossForm form);

// x [R, d] -> E row segments [offsets[e+1] − offsets[e], d] (views); offsets [E + 1] i64 from 0 to R.
StatusOr<std::vector<Variable>> split_rows(const Variable& x, const Tensor& offsets);
// Parts [r_i, d] -> [Σ r_i, d], in order. The inverse of split_rows.
StatusOr<Variable> concat_rows(const std::vector<Variable>& parts);

}  // namespace mone::autograd

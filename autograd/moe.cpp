// Definitions and contracts: autograd/moe.h and the ops/ headers it names.
#include "autograd/moe.h"

#include "autograd/tape.h"
#include "ops/moe_losses.h"
#include "ops/router.h"

namespace mone::autograd {

namespace {

struct RouterSaved {
  Tensor x, w_router;
  ops::RouterForward fwd;
  NamedTensors tensors() const {
    return {{"x", x}, {"w_router", w_router}, {"probs", fwd.probs}, {"expert_ids", fwd.expert_ids},
            {"weights", fwd.weights}};
  }
};

// A dispatch plan's index tensors, which permute's and combine's backward read.
NamedTensors plan_tensors(const ops::DispatchPlan& plan) {
  return {{"plan.order", plan.order}, {"plan.slot_row", plan.slot_row}};
}

struct PermuteSaved {
  ops::DispatchPlan plan;
  NamedTensors tensors() const { return plan_tensors(plan); }
};

struct CombineSaved {
  Tensor y_perm, weights;
  ops::DispatchPlan plan;
  NamedTensors tensors() const {
    NamedTensors t = plan_tensors(plan);
    t.insert(t.end(), {{"y_perm", y_perm}, {"weights", weights}});
    return t;
  }
};

struct MoneFfnSaved {
  Tensor x, offsets, w_gate, w_up, w_down;
  ops::MoneFfnForward fwd;  // without y, which the backward does not read
  NamedTensors tensors() const {
    return {{"x", x},         {"offsets", offsets}, {"w_gate", w_gate}, {"w_up", w_up}, {"w_down", w_down},
            {"a", fwd.a},     {"g", fwd.g},         {"idx", fwd.idx},   {"u", fwd.u},   {"h", fwd.h},
            {"host_offsets", fwd.host_offsets}};
  }
};

struct LoadBalanceSaved {
  Tensor probs, counts;
  NamedTensors tensors() const { return {{"probs", probs}, {"counts", counts}}; }
};

struct ZLossSaved {
  Tensor logits;
  NamedTensors tensors() const { return {{"logits", logits}}; }
};

struct NeuronLossSaved {
  Tensor g, idx, offsets;
  NamedTensors tensors() const { return {{"g", g}, {"idx", idx}, {"offsets", offsets}}; }
};

}  // namespace

StatusOr<RouterOutput> router(const Variable& x, const Variable& w_router, int64_t k, bool norm_topk_prob) {
  MONE_ASSIGN_OR_RETURN(ops::RouterForward f, ops::router_forward(x.value(), w_router.value(), k, norm_topk_prob));
  RouterOutput out{Variable(f.logits), Variable(f.probs), Variable(f.weights), f.expert_ids};
  record("router", {x, w_router}, {out.logits, out.probs, out.weights}, RouterSaved{x.value(), w_router.value(), f},
         [](const TensorList& g, const RouterSaved& s) -> StatusOr<TensorList> {
           // outputs: 0 logits (z-loss), 1 probs (load balance), 2 weights (combine)
           MONE_ASSIGN_OR_RETURN(auto grads, ops::router_backward(g[2], g[1], g[0], s.x, s.w_router, s.fwd));
           return TensorList{grads.grad_x, grads.grad_w_router};
         });
  return out;
}

StatusOr<Variable> permute(const Variable& x, const ops::DispatchPlan& plan) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::permute(x.value(), plan));
  Variable out(std::move(y));
  record("permute", {x}, {out}, PermuteSaved{plan},
         [](const TensorList& g, const PermuteSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gx, ops::permute_backward(g[0], s.plan));
           return TensorList{gx};
         });
  return out;
}

StatusOr<Variable> combine(const Variable& y_perm, const Variable& weights, const ops::DispatchPlan& plan) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::combine(y_perm.value(), weights.value(), plan));
  Variable out(std::move(y));
  record("combine", {y_perm, weights}, {out}, CombineSaved{y_perm.value(), weights.value(), plan},
         [](const TensorList& g, const CombineSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, ops::combine_backward(g[0], s.y_perm, s.weights, s.plan));
           return TensorList{grads.grad_y_perm, grads.grad_weights};
         });
  return out;
}

StatusOr<MoneFfnOutput> mone_ffn(const Variable& x, const Tensor& offsets, const Variable& w_gate,
                                 const Variable& w_up, const Variable& w_down, const ops::MoneFfnConfig& config_in) {
  ops::MoneFfnConfig config = config_in;  // AUTO picks for forward + backward when one will follow
  config.backward_follows = Tape::should_record({x, w_gate, w_up, w_down});
  MONE_ASSIGN_OR_RETURN(ops::MoneFfnForward f, ops::mone_ffn_forward(x.value(), offsets, w_gate.value(),
                                                                     w_up.value(), w_down.value(), config));
  MoneFfnOutput out{Variable(f.y), Variable(f.g), f.idx, f.strategy};
  f.y = Tensor();
  record("mone_ffn", {x, w_gate, w_up, w_down}, {out.y, out.g},
         MoneFfnSaved{x.value(), offsets, w_gate.value(), w_up.value(), w_down.value(), std::move(f)},
         [config](const TensorList& g, const MoneFfnSaved& s) -> StatusOr<TensorList> {
           // g[0] (through y) or g[1] (the neuron loss, through G) may be absent.
           MONE_ASSIGN_OR_RETURN(auto grads, ops::mone_ffn_backward(g[0], g[1], s.x, s.offsets, s.w_gate, s.w_up,
                                                                    s.w_down, s.fwd, config));
           return TensorList{grads.grad_x, grads.grad_w_gate, grads.grad_w_up, grads.grad_w_down};
         });
  return out;
}

StatusOr<Variable> load_balance_loss(const Variable& probs, const Tensor& counts, int64_t k) {
  MONE_ASSIGN_OR_RETURN(Tensor l, ops::load_balance_loss(probs.value(), counts, k));
  Variable out(std::move(l));
  record("load_balance_loss", {probs}, {out}, LoadBalanceSaved{probs.value(), counts},
         [k](const TensorList& g, const LoadBalanceSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gp, ops::load_balance_loss_backward(g[0], s.probs, s.counts, k));
           return TensorList{gp};
         });
  return out;
}

StatusOr<Variable> z_loss(const Variable& logits) {
  MONE_ASSIGN_OR_RETURN(Tensor l, ops::z_loss(logits.value()));
  Variable out(std::move(l));
  record("z_loss", {logits}, {out}, ZLossSaved{logits.value()},
         [](const TensorList& g, const ZLossSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gz, ops::z_loss_backward(g[0], s.logits));
           return TensorList{gz};
         });
  return out;
}

StatusOr<Variable> neuron_balance_loss(const Variable& g, const Tensor& idx, const Tensor& offsets,
                                       ops::NeuronLossForm form) {
  MONE_ASSIGN_OR_RETURN(Tensor l, ops::neuron_balance_loss(g.value(), idx, offsets, form));
  Variable out(std::move(l));
  record("neuron_balance_loss", {g}, {out}, NeuronLossSaved{g.value(), idx, offsets},
         [form](const TensorList& grad, const NeuronLossSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gg, ops::neuron_balance_loss_backward(grad[0], s.g, s.idx, s.offsets, form));
           return TensorList{gg};
         });
  return out;
}

}  // namespace mone::autograd

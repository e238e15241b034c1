// Definitions and contracts: autograd/moe.h and the ops/ headers it names.
#include "autograd/moe.h"

#include "autograd/tape.h"
#include "ops/concat.h"
#include "ops/grouped_matmul.h"
#include "ops/moe_common.h"
#include "ops/moe_losses.h"
#include "ops/mone_ffn.h"
#include "ops/router.h"

namespace mone::autograd {

namespace {

std::vector<Tensor> values(const std::vector<Variable>& vs) {
  std::vector<Tensor> out;
  for (const auto& v : vs) out.push_back(v.value());
  return out;
}

// A gradient that may be absent (undefined) becomes zeros shaped like `like`.
StatusOr<Tensor> or_zeros(const Tensor& grad, const Tensor& like) {
  if (grad.defined()) return grad;
  return Tensor::zeros_like(like);
}

}  // namespace

StatusOr<RouterOutput> router(const Variable& x, const Variable& w_router, int64_t k, bool norm_topk_prob) {
  MONE_ASSIGN_OR_RETURN(ops::RouterForward f, ops::router_forward(x.value(), w_router.value(), k, norm_topk_prob));
  RouterOutput out{Variable(f.logits), Variable(f.probs), Variable(f.weights), f.expert_ids};
  record("router", {x, w_router}, {out.logits, out.probs, out.weights},
         {x.value(), w_router.value(), f.probs, f.expert_ids, f.weights},
         [norm_topk_prob](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
           ops::RouterForward fwd;
           fwd.probs = s[2];
           fwd.expert_ids = s[3];
           fwd.weights = s[4];
           fwd.norm_topk_prob = norm_topk_prob;
           // outputs: 0 logits (z-loss), 1 probs (load balance), 2 weights (combine)
           MONE_ASSIGN_OR_RETURN(auto grads, ops::router_backward(g[2], g[1], g[0], s[0], s[1], fwd));
           return TensorList{grads.grad_x, grads.grad_w_router};
         });
  return out;
}

StatusOr<Variable> permute(const Variable& x, const ops::DispatchPlan& plan) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::permute(x.value(), plan));
  Variable out(std::move(y));
  record("permute", {x}, {out}, {}, [plan](const TensorList& g, const TensorList&) -> StatusOr<TensorList> {
    MONE_ASSIGN_OR_RETURN(Tensor gx, ops::permute_backward(g[0], plan));
    return TensorList{gx};
  });
  return out;
}

StatusOr<Variable> combine(const Variable& y_perm, const Variable& weights, const ops::DispatchPlan& plan) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::combine(y_perm.value(), weights.value(), plan));
  Variable out(std::move(y));
  record("combine", {y_perm, weights}, {out}, {y_perm.value(), weights.value()},
         [plan](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, ops::combine_backward(g[0], s[0], s[1], plan));
           return TensorList{grads.grad_y_perm, grads.grad_weights};
         });
  return out;
}

StatusOr<Variable> grouped_matmul(const Variable& x_perm, const std::vector<Variable>& w, const Tensor& offsets) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::grouped_matmul(x_perm.value(), values(w), offsets));
  Variable out(std::move(y));
  std::vector<Variable> inputs{x_perm};
  inputs.insert(inputs.end(), w.begin(), w.end());
  record("grouped_matmul", inputs, {out}, values(inputs),
         [offsets](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
           const std::vector<Tensor> w(s.begin() + 1, s.end());
           MONE_ASSIGN_OR_RETURN(auto grads, ops::grouped_matmul_backward(g[0], s[0], w, offsets));
           TensorList result{grads.grad_x};
           result.insert(result.end(), grads.grad_w.begin(), grads.grad_w.end());
           return result;
         });
  return out;
}

StatusOr<MoneFfnOutput> mone_ffn(const Variable& x, const Variable& w_gate, const Variable& w_up,
                                 const Variable& w_down, int64_t k_n, ops::Activation act,
                                 ops::MoneStrategy strategy, ops::TopkBackward estimator) {
  MONE_ASSIGN_OR_RETURN(ops::MoneFfnForward f, ops::mone_ffn_forward(x.value(), w_gate.value(), w_up.value(),
                                                                     w_down.value(), k_n, act, strategy));
  MoneFfnOutput out{Variable(f.y), Variable(f.g), f.idx};
  record("mone_ffn", {x, w_gate, w_up, w_down}, {out.y, out.g},
         {x.value(), w_gate.value(), w_up.value(), w_down.value(), f.a, f.g, f.idx, f.u, f.h},
         [act, strategy, estimator](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
           ops::MoneFfnForward fwd{Tensor(), s[4], s[5], s[6], s[7], s[8]};
           // Only the neuron loss may have reached this expert: then dy = 0 (y is shaped like x).
           MONE_ASSIGN_OR_RETURN(Tensor dy, or_zeros(g[0], s[0]));
           MONE_ASSIGN_OR_RETURN(auto grads,
                                 ops::mone_ffn_backward(dy, g[1], s[0], s[1], s[2], s[3], fwd, estimator, strategy, act));
           return TensorList{grads.grad_x, grads.grad_w_gate, grads.grad_w_up, grads.grad_w_down};
         });
  return out;
}

StatusOr<Variable> load_balance_loss(const Variable& probs, const Tensor& counts, int64_t k) {
  MONE_ASSIGN_OR_RETURN(Tensor l, ops::load_balance_loss(probs.value(), counts, k));
  Variable out(std::move(l));
  record("load_balance_loss", {probs}, {out}, {probs.value()},
         [counts, k](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gp, ops::load_balance_loss_backward(g[0], s[0], counts, k));
           return TensorList{gp};
         });
  return out;
}

StatusOr<Variable> z_loss(const Variable& logits) {
  MONE_ASSIGN_OR_RETURN(Tensor l, ops::z_loss(logits.value()));
  Variable out(std::move(l));
  record("z_loss", {logits}, {out}, {logits.value()}, [](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
    MONE_ASSIGN_OR_RETURN(Tensor gz, ops::z_loss_backward(g[0], s[0]));
    return TensorList{gz};
  });
  return out;
}

StatusOr<Variable> neuron_balance_loss(const Variable& g, const Tensor& idx, ops::NeuronLossForm form) {
  MONE_ASSIGN_OR_RETURN(Tensor l, ops::neuron_balance_loss(g.value(), idx, form));
  Variable out(std::move(l));
  record("neuron_balance_loss", {g}, {out}, {g.value(), idx},
         [form](const TensorList& grad, const TensorList& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gg, ops::neuron_balance_loss_backward(grad[0], s[0], s[1], form));
           return TensorList{gg};
         });
  return out;
}

StatusOr<std::vector<Variable>> split_rows(const Variable& x, const Tensor& offsets_in) {
  constexpr const char* op = "split_rows";
  MONE_RETURN_IF_ERROR(ops::check_dim(op, x.value(), 2, "x"));
  MONE_RETURN_IF_ERROR(ops::check_dtype(op, offsets_in, DType::kI64, "offsets"));
  MONE_RETURN_IF_ERROR(ops::check_dim(op, offsets_in, 1, "offsets"));
  const int64_t e = offsets_in.size(0) - 1;
  if (e < 1) return absl::InvalidArgumentError(absl::StrCat(op, ": offsets is ", offsets_in.describe(), ", expected [E + 1 >= 2]"));
  MONE_RETURN_IF_ERROR(ops::check_offsets(op, offsets_in, e, x.shape()[0]));
  const std::vector<int64_t> offsets = offsets_in.to_vector<int64_t>();
  std::vector<Variable> parts;
  for (int64_t j = 0; j < e; ++j) {
    MONE_ASSIGN_OR_RETURN(Tensor part, x.value().slice(0, offsets[j], offsets[j + 1]));
    parts.emplace_back(part.contiguous());
  }
  record(op, {x}, parts, {}, [offsets, like = x.value()](const TensorList& g, const TensorList&) -> StatusOr<TensorList> {
    // Segments without a gradient (e.g. an expert no token reached) contribute zeros.
    MONE_ASSIGN_OR_RETURN(Tensor gx, Tensor::zeros_like(like));
    for (size_t j = 0; j < g.size(); ++j) {
      if (!g[j].defined()) continue;
      MONE_ASSIGN_OR_RETURN(Tensor rows, gx.slice(0, offsets[j], offsets[j + 1]));
      MONE_RETURN_IF_ERROR(rows.copy_from(g[j]));
    }
    return TensorList{gx};
  });
  return parts;
}

StatusOr<Variable> concat_rows(const std::vector<Variable>& parts) {
  constexpr const char* op = "concat_rows";
  if (parts.empty()) return absl::InvalidArgumentError(absl::StrCat(op, ": no parts"));
  const Tensor& first = parts[0].value();
  MONE_RETURN_IF_ERROR(ops::check_dim(op, first, 2, "parts[0]"));
  for (size_t j = 0; j < parts.size(); ++j) {
    const Tensor& p = parts[j].value();
    if (p.dim() != 2 || p.size(1) != first.size(1) || p.dtype() != first.dtype() || p.device() != first.device()) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": parts[", j, "] is ", p.describe(),
                                                     ", expected [rows, ", first.size(1), "] like parts[0], ",
                                                     first.describe()));
    }
  }
  std::vector<Tensor> values;
  std::vector<int64_t> rows;
  for (const auto& p : parts) {
    values.push_back(p.value());
    rows.push_back(p.value().size(0));
  }
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::concat(values, 0));
  Variable out(std::move(y));
  record(op, parts, {out}, {}, [rows](const TensorList& g, const TensorList&) -> StatusOr<TensorList> {
    return ops::concat_backward(g[0], 0, rows);
  });
  return out;
}

}  // namespace mone::autograd

#include "autograd/attention.h"

#include "autograd/tape.h"
#include "ops/attention.h"

namespace mone::autograd {

namespace {
struct AttentionSaved {
  Tensor q, k, v, out, lse;
  NamedTensors tensors() const { return {{"q", q}, {"k", k}, {"v", v}, {"out", out}, {"lse", lse}}; }
};
}  // namespace

StatusOr<Variable> attention(const Variable& q, const Variable& k, const Variable& v) {
  MONE_ASSIGN_OR_RETURN(ops::AttentionForward f, ops::attention(q.value(), k.value(), v.value()));
  Variable out(std::move(f.out));
  record("attention", {q, k, v}, {out}, AttentionSaved{q.value(), k.value(), v.value(), out.value(), f.lse},
         [](const TensorList& g, const AttentionSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, ops::attention_backward(g[0], s.q, s.k, s.v, ops::AttentionForward{s.out, s.lse}));
           return TensorList{grads.grad_q, grads.grad_k, grads.grad_v};
         });
  return out;
}

}  // namespace mone::autograd

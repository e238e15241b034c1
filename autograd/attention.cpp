#include "autograd/attention.h"

#include "autograd/tape.h"
#include "ops/attention.h"

namespace mone::autograd {

StatusOr<Variable> attention(const Variable& q, const Variable& k, const Variable& v) {
  MONE_ASSIGN_OR_RETURN(ops::AttentionForward f, ops::attention(q.value(), k.value(), v.value()));
  Variable out(std::move(f.out));
  record("attention", {q, k, v}, {out}, {q.value(), k.value(), v.value(), out.value(), f.lse},
         [](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
           const ops::AttentionForward fwd{s[3], s[4]};
           MONE_ASSIGN_OR_RETURN(auto grads, ops::attention_backward(g[0], s[0], s[1], s[2], fwd));
           return TensorList{grads.grad_q, grads.grad_k, grads.grad_v};
         });
  return out;
}

}  // namespace mone::autograd

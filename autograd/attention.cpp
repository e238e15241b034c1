#include "autograd/attention.h"

#include "autograd/tape.h"
#include "ops/attention.h"

namespace mone::autograd {

StatusOr<Variable> attention(const Variable& q, const Variable& k, const Variable& v) {
  MONE_ASSIGN_OR_RETURN(ops::AttentionForward f, ops::attention(q.value(), k.value(), v.value()));
  Variable out(std::move(f.out));
  record("attention", {q, k, v}, {out}, {q.value(), k.value(), v.value(), f.probs},
         [](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, ops::attention_backward(g[0], s[0], s[1], s[2], s[3]));
           return TensorList{grads.grad_q, grads.grad_k, grads.grad_v};
         });
  return out;
}

}  // namespace mone::autograd

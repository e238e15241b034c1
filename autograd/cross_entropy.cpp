#include "autograd/cross_entropy.h"

#include "autograd/tape.h"
#include "ops/cross_entropy.h"

namespace mone::autograd {

namespace {
struct CrossEntropySaved {
  Tensor logits, targets, lse;
  NamedTensors tensors() const { return {{"logits", logits}, {"targets", targets}, {"lse", lse}}; }
};
}  // namespace

StatusOr<Variable> cross_entropy(const Variable& logits, const Tensor& targets, int64_t ignore_index) {
  MONE_ASSIGN_OR_RETURN(ops::CrossEntropyForward fwd, ops::cross_entropy(logits.value(), targets, ignore_index));
  Variable out(fwd.loss);
  record("cross_entropy", {logits}, {out}, CrossEntropySaved{logits.value(), targets, fwd.lse},
         [ignore_index, count = fwd.count](const TensorList& g, const CrossEntropySaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor grad_logits, ops::cross_entropy_backward(g[0], s.logits, s.targets, s.lse,
                                                                                 ignore_index, count));
           return TensorList{grad_logits};
         });
  return out;
}

}  // namespace mone::autograd

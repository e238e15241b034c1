#include "autograd/activation.h"

#include "autograd/tape.h"
#include "autograd/unary.h"
#include "ops/activation.h"

namespace mone::autograd {

StatusOr<Variable> sigmoid(const Variable& x) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::sigmoid(x.value()));
  // σ' = y (1 - y): the output is all the backward needs.
  return record_unary("sigmoid", x, y, y, ops::sigmoid_backward);
}

StatusOr<Variable> silu(const Variable& x) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::silu(x.value()));
  return record_unary("silu", x, std::move(y), x.value(), ops::silu_backward);
}

namespace {
struct SwigluSaved {
  Tensor gate, up;
  NamedTensors tensors() const { return {{"gate", gate}, {"up", up}}; }
};
}  // namespace

StatusOr<Variable> swiglu(const Variable& gate, const Variable& up) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::swiglu(gate.value(), up.value()));
  Variable out(std::move(y));
  record("swiglu", {gate, up}, {out}, SwigluSaved{gate.value(), up.value()},
         [](const TensorList& g, const SwigluSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, ops::swiglu_backward(g[0], s.gate, s.up));
           return TensorList{grads.grad_gate, grads.grad_up};
         });
  return out;
}

}  // namespace mone::autograd

#include "autograd/matmul.h"

#include "autograd/tape.h"
#include "ops/matmul.h"

namespace mone::autograd {

namespace {
struct MatmulSaved {
  Tensor a, b;
  NamedTensors tensors() const { return {{"a", a}, {"b", b}}; }
};
}  // namespace

StatusOr<Variable> matmul(const Variable& a, const Variable& b, bool trans_a, bool trans_b) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::matmul(a.value(), b.value(), trans_a, trans_b));
  Variable out(std::move(y));
  record("matmul", {a, b}, {out}, MatmulSaved{a.value(), b.value()},
         [trans_a, trans_b](const TensorList& g, const MatmulSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, ops::matmul_backward(g[0], s.a, s.b, trans_a, trans_b));
           return TensorList{grads.grad_a, grads.grad_b};
         });
  return out;
}

StatusOr<Variable> linear(const Variable& x, const Variable& w) { return matmul(x, w, false, true); }

}  // namespace mone::autograd

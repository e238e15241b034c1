#include "autograd/elementwise.h"

#include "autograd/tape.h"
#include "ops/elementwise.h"

namespace mone::autograd {

namespace {
using ShapeBackward = StatusOr<ops::BinaryGrads> (*)(const Tensor&, const Shape&, const Shape&);

struct ClampSaved {
  Tensor x;
  NamedTensors tensors() const { return {{"x", x}}; }
};

struct MulSaved {
  Tensor a, b;
  NamedTensors tensors() const { return {{"a", a}, {"b", b}}; }
};

// add and sub: the backward needs only the operands' shapes (to undo the broadcast).
StatusOr<Variable> record_linear_binary(const char* name, const Variable& a, const Variable& b, Tensor y,
                                        ShapeBackward backward) {
  Variable out(std::move(y));
  record(name, {a, b}, {out}, NothingSaved{},
         [sa = a.shape(), sb = b.shape(), backward](const TensorList& g, const NothingSaved&) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, backward(g[0], sa, sb));
           return TensorList{grads.grad_a, grads.grad_b};
         });
  return out;
}
}  // namespace

StatusOr<Variable> add(const Variable& a, const Variable& b) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::add(a.value(), b.value()));
  return record_linear_binary("add", a, b, std::move(y), ops::add_backward);
}

StatusOr<Variable> sub(const Variable& a, const Variable& b) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::sub(a.value(), b.value()));
  return record_linear_binary("sub", a, b, std::move(y), ops::sub_backward);
}

StatusOr<Variable> mul(const Variable& a, const Variable& b) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::mul(a.value(), b.value()));
  Variable out(std::move(y));
  record("mul", {a, b}, {out}, MulSaved{a.value(), b.value()},
         [](const TensorList& g, const MulSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, ops::mul_backward(g[0], s.a, s.b));
           return TensorList{grads.grad_a, grads.grad_b};
         });
  return out;
}

StatusOr<Variable> scale(const Variable& a, double s) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::scale(a.value(), s));
  Variable out(std::move(y));
  record("scale", {a}, {out}, NothingSaved{}, [s](const TensorList& g, const NothingSaved&) -> StatusOr<TensorList> {
    MONE_ASSIGN_OR_RETURN(Tensor ga, ops::scale_backward(g[0], s));
    return TensorList{ga};
  });
  return out;
}

StatusOr<Variable> clamp(const Variable& x, double lo, double hi) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::clamp(x.value(), lo, hi));
  Variable out(std::move(y));
  record("clamp", {x}, {out}, ClampSaved{x.value()},
         [lo, hi](const TensorList& g, const ClampSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gx, ops::clamp_backward(g[0], s.x, lo, hi));
           return TensorList{gx};
         });
  return out;
}

}  // namespace mone::autograd

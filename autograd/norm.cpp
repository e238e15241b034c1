#include "autograd/norm.h"

#include "autograd/tape.h"
#include "ops/norm.h"

namespace mone::autograd {

namespace {
struct RmsNormSaved {
  Tensor x, w, rstd;
  NamedTensors tensors() const { return {{"x", x}, {"w", w}, {"rstd", rstd}}; }
};
}  // namespace

StatusOr<Variable> rmsnorm(const Variable& x, const Variable& w, double eps) {
  MONE_ASSIGN_OR_RETURN(ops::RmsNormForward f, ops::rmsnorm(x.value(), w.value(), eps));
  Variable out(std::move(f.y));
  record("rmsnorm", {x, w}, {out}, RmsNormSaved{x.value(), w.value(), f.rstd},
         [](const TensorList& g, const RmsNormSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(auto grads, ops::rmsnorm_backward(g[0], s.x, s.w, s.rstd));
           return TensorList{grads.grad_x, grads.grad_w};
         });
  return out;
}

}  // namespace mone::autograd

#include "autograd/reduce.h"

#include "autograd/tape.h"
#include "ops/reduce.h"

namespace mone::autograd {

namespace {

// Every reduction's backward needs only x's shape: grad_x = backward(grad_out, x_shape).
using ReduceBackward = StatusOr<Tensor> (*)(const Tensor& grad_out, const Shape& x_shape);

Variable record_reduction(const char* op, const Variable& x, Tensor y, ReduceBackward backward) {
  Variable out(std::move(y));
  record(op, {x}, {out}, NothingSaved{},
         [shape = x.shape(), backward](const TensorList& g, const NothingSaved&) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gx, backward(g[0], shape));
           return TensorList{gx};
         });
  return out;
}

}  // namespace

StatusOr<Variable> sum(const Variable& x) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::sum(x.value()));
  return record_reduction("sum", x, std::move(y), ops::sum_backward);
}

StatusOr<Variable> mean(const Variable& x) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::mean(x.value()));
  return record_reduction("mean", x, std::move(y), ops::mean_backward);
}

StatusOr<Variable> sum_last(const Variable& x) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::sum_last(x.value()));
  return record_reduction("sum_last", x, std::move(y), ops::sum_last_backward);
}

}  // namespace mone::autograd

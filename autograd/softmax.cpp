#include "autograd/softmax.h"

#include "autograd/unary.h"
#include "ops/softmax.h"

namespace mone::autograd {

// Both backwards need only the forward's output y.
StatusOr<Variable> softmax(const Variable& x) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::softmax(x.value()));
  return record_unary("softmax", x, y, y, ops::softmax_backward);
}

StatusOr<Variable> log_softmax(const Variable& x) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::log_softmax(x.value()));
  return record_unary("log_softmax", x, y, y, ops::log_softmax_backward);
}

}  // namespace mone::autograd

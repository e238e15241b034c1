#include "autograd/rope.h"

#include "autograd/tape.h"
#include "ops/rope.h"

namespace mone::autograd {

StatusOr<Variable> rope(const Variable& x, int64_t position_offset, double theta) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::rope(x.value(), position_offset, theta));
  Variable out(std::move(y));
  // A rotation saves nothing: its backward needs only the angles.
  record("rope", {x}, {out}, NothingSaved{},
         [position_offset, theta](const TensorList& g, const NothingSaved&) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gx, ops::rope_backward(g[0], position_offset, theta));
           return TensorList{gx};
         });
  return out;
}

}  // namespace mone::autograd

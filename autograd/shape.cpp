#include "autograd/shape.h"

#include "autograd/tape.h"

namespace mone::autograd {

StatusOr<Variable> reshape(const Variable& x, const Shape& shape) {
  MONE_ASSIGN_OR_RETURN(Tensor y, x.value().reshape(shape));
  Variable out(std::move(y));
  record("reshape", {x}, {out}, {}, [in_shape = x.shape()](const TensorList& g, const TensorList&) -> StatusOr<TensorList> {
    MONE_ASSIGN_OR_RETURN(Tensor gx, g[0].reshape(in_shape));
    return TensorList{gx};
  });
  return out;
}

}  // namespace mone::autograd

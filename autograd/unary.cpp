#include "autograd/unary.h"

namespace mone::autograd {

Variable record_unary(const char* op, const Variable& x, Tensor y, Tensor saved, UnaryBackward backward) {
  Variable out(std::move(y));
  record(op, {x}, {out}, {std::move(saved)}, [backward](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
    MONE_ASSIGN_OR_RETURN(Tensor gx, backward(g[0], s[0]));
    return TensorList{gx};
  });
  return out;
}

}  // namespace mone::autograd

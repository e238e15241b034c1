#include "autograd/unary.h"

namespace mone::autograd {

namespace {
// x or y: whichever the op's backward reads (see unary.h).
struct UnarySaved {
  Tensor operand;
  NamedTensors tensors() const { return {{"operand", operand}}; }
};
}  // namespace

Variable record_unary(const char* op, const Variable& x, Tensor y, Tensor saved, UnaryBackward backward) {
  Variable out(std::move(y));
  record(op, {x}, {out}, UnarySaved{std::move(saved)},
         [backward](const TensorList& g, const UnarySaved& s) -> StatusOr<TensorList> {
    MONE_ASSIGN_OR_RETURN(Tensor gx, backward(g[0], s.operand));
    return TensorList{gx};
  });
  return out;
}

}  // namespace mone::autograd

#include "autograd/embedding.h"

#include "autograd/tape.h"
#include "ops/embedding.h"

namespace mone::autograd {

StatusOr<Variable> embedding(const Variable& weight, const Tensor& ids) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::embedding(weight.value(), ids));
  Variable out(std::move(y));
  record("embedding", {weight}, {out}, {ids},
         [V = weight.shape()[0]](const TensorList& g, const TensorList& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gw, ops::embedding_backward(g[0], s[0], V));
           return TensorList{gw};
         });
  return out;
}

}  // namespace mone::autograd

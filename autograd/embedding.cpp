#include "autograd/embedding.h"

#include "autograd/tape.h"
#include "ops/embedding.h"

namespace mone::autograd {

namespace {
struct EmbeddingSaved {
  Tensor ids;
  NamedTensors tensors() const { return {{"ids", ids}}; }
};
}  // namespace

StatusOr<Variable> embedding(const Variable& weight, const Tensor& ids) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::embedding(weight.value(), ids));
  Variable out(std::move(y));
  record("embedding", {weight}, {out}, EmbeddingSaved{ids},
         [V = weight.shape()[0]](const TensorList& g, const EmbeddingSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gw, ops::embedding_backward(g[0], s.ids, V));
           return TensorList{gw};
         });
  return out;
}

}  // namespace mone::autograd

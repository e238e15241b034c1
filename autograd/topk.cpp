#include "autograd/topk.h"

#include "autograd/tape.h"
#include "ops/topk.h"

namespace mone::autograd {

namespace {
struct TopkSaved {
  Tensor indices;
  NamedTensors tensors() const { return {{"indices", indices}}; }
};
}  // namespace

StatusOr<TopkResult> topk(const Variable& x, int64_t k) {
  MONE_ASSIGN_OR_RETURN(ops::TopkResult r, ops::topk(x.value(), k));
  TopkResult out{Variable(r.values), r.indices};
  record("topk", {x}, {out.values}, TopkSaved{r.indices},
         [n = x.shape().back()](const TensorList& g, const TopkSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gx, ops::topk_backward(g[0], s.indices, n));
           return TensorList{gx};
         });
  return out;
}

}  // namespace mone::autograd

#include "autograd/gather.h"

#include "autograd/tape.h"
#include "ops/gather.h"

namespace mone::autograd {

namespace {
struct IndexSaved {
  Tensor index;
  NamedTensors tensors() const { return {{"index", index}}; }
};
}  // namespace

StatusOr<Variable> gather(const Variable& x, int64_t dim, const Tensor& index) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::gather(x.value(), dim, index));
  Variable out(std::move(y));
  record("gather", {x}, {out}, IndexSaved{index},
         [shape = x.shape(), dim](const TensorList& g, const IndexSaved& s) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gx, ops::gather_backward(g[0], shape, dim, s.index));
           return TensorList{gx};
         });
  return out;
}

StatusOr<Variable> scatter_add(const Shape& base_shape, int64_t dim, const Tensor& index, const Variable& src) {
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::scatter_add(base_shape, dim, index, src.value()));
  Variable out(std::move(y));
  record("scatter_add", {src}, {out}, IndexSaved{index},
         [dim](const TensorList& g, const IndexSaved& s) -> StatusOr<TensorList> {
    MONE_ASSIGN_OR_RETURN(Tensor gs, ops::scatter_add_backward(g[0], dim, s.index));
    return TensorList{gs};
  });
  return out;
}

}  // namespace mone::autograd

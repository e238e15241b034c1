#include "autograd/shape.h"

#include "autograd/tape.h"
#include "ops/concat.h"

namespace mone::autograd {

StatusOr<Variable> reshape(const Variable& x, const Shape& shape) {
  MONE_ASSIGN_OR_RETURN(Tensor y, x.value().reshape(shape));
  Variable out(std::move(y));
  record("reshape", {x}, {out}, NothingSaved{},
         [in_shape = x.shape()](const TensorList& g, const NothingSaved&) -> StatusOr<TensorList> {
    MONE_ASSIGN_OR_RETURN(Tensor gx, g[0].reshape(in_shape));
    return TensorList{gx};
  });
  return out;
}

}  // namespace mone::autograd

namespace mone::autograd {

StatusOr<Variable> concat(const std::vector<Variable>& parts, int64_t dim) {
  std::vector<Tensor> values;
  for (const auto& p : parts) values.push_back(p.defined() ? p.value() : Tensor());
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::concat(values, dim));
  if (dim < 0) dim += y.dim();
  std::vector<int64_t> sizes;
  for (const auto& v : values) sizes.push_back(v.defined() ? v.size(dim) : 0);
  Variable out(std::move(y));
  record("concat", parts, {out}, NothingSaved{},
         [dim, sizes](const TensorList& g, const NothingSaved&) -> StatusOr<TensorList> {
           return ops::concat_backward(g[0], dim, sizes);
         });
  return out;
}

}  // namespace mone::autograd

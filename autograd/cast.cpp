#include "autograd/cast.h"

#include "autograd/tape.h"

namespace mone::autograd {

StatusOr<Variable> cast(const Variable& x, DType dtype) {
  if (!x.defined()) return absl::InvalidArgumentError("cast: the input is undefined");
  if (!is_floating(x.dtype()) || !is_floating(dtype)) {
    return absl::InvalidArgumentError(absl::StrCat("cast: ", x.value().describe(), " to ", dtype_name(dtype),
                                                   ": only floating dtypes (f32, f64, bf16) are differentiable"));
  }
  if (x.dtype() == dtype) return x;
  MONE_ASSIGN_OR_RETURN(Tensor y, x.value().to(dtype));
  Variable out(std::move(y));
  record("cast", {x}, {out}, NothingSaved{},
         [from = x.dtype()](const TensorList& g, const NothingSaved&) -> StatusOr<TensorList> {
           MONE_ASSIGN_OR_RETURN(Tensor gx, g[0].to(from));
           return TensorList{gx};
         });
  return out;
}

StatusOr<Variable> upcast(const Variable& x) { return cast(x, accumulation_dtype(x.dtype())); }

}  // namespace mone::autograd

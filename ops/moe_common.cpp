// Definitions and contracts: ops/moe_common.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/moe_common.h"

namespace mone::ops {

Status check_float_dims(const char* op, const Tensor& t, int64_t dims, const char* name) {
  MONE_RETURN_IF_ERROR(check_float(op, t, name));
  return check_dim(op, t, dims, name);
}

Status check_like(const char* op, const Tensor& t, const Shape& shape, const Tensor& like, const char* name) {
  MONE_RETURN_IF_ERROR(check_shape(op, t, shape, name));
  if (t.dtype() != like.dtype() || t.device() != like.device()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected the dtype and device of ",
                                                   like.describe()));
  }
  return absl::OkStatus();
}

Status check_optional(const char* op, const Tensor& t, const Shape& shape, const Tensor& like, const char* name) {
  return t.defined() ? check_like(op, t, shape, like, name) : absl::OkStatus();
}

Status check_ids_in_range(const char* op, const Tensor& ids_in, int64_t limit, const char* name) {
  MONE_RETURN_IF_ERROR(check_index_dtype(op, ids_in, name));
  if (!ids_in.device().is_cpu()) return unsupported_device(op, ids_in.device());
  const Tensor ids = ids_in.contiguous();
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t v = ids.dtype() == DType::kI32 ? ids.data<int32_t>()[i] : ids.data<int64_t>()[i];
    if (v < 0 || v >= limit) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " (", ids.describe(), ") holds ", v,
                                                     " at flat position ", i, ", expected 0 <= id < ", limit));
    }
  }
  return absl::OkStatus();
}

Status check_offsets(const char* op, const Tensor& offsets_in, int64_t e, int64_t rows) {
  MONE_RETURN_IF_ERROR(check_dtype(op, offsets_in, DType::kI64, "offsets"));
  MONE_RETURN_IF_ERROR(check_shape(op, offsets_in, {e + 1}, "offsets"));
  const Tensor offsets = offsets_in.contiguous();
  const int64_t* o = offsets.data<int64_t>();
  bool ok = o[0] == 0 && o[e] == rows;
  for (int64_t j = 0; j < e && ok; ++j) ok = o[j] <= o[j + 1];
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(op, ": offsets must rise from 0 to the input's ", rows,
                                                 " rows, got [", o[0], ", ..., ", o[e], "]"));
}

}  // namespace mone::ops

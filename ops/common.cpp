// Definitions and contracts: ops/common.h.
#include "ops/common.h"

#include <optional>
#include <utility>

#include "absl/strings/str_join.h"

namespace mone::ops {

std::string describe_args(TensorArgs args) {
  std::vector<std::string> parts;
  for (const auto& [name, t] : args) parts.push_back(absl::StrCat(name, " is ", t->describe()));
  return absl::StrJoin(parts, ", ");
}

std::string position_string(const Shape& shape, int64_t p) {
  std::vector<int64_t> coords(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    coords[d] = shape[d] == 0 ? 0 : p % shape[d];
    p = shape[d] == 0 ? 0 : p / shape[d];
  }
  return absl::StrCat("[", absl::StrJoin(coords, ", "), "]");
}

Status check_defined(const char* op, const Tensor& t, const char* name) {
  if (t.defined()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is undefined"));
}

Status check_float(const char* op, const Tensor& t, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.dtype() == DType::kF32 || t.dtype() == DType::kF64) return absl::OkStatus();
  if (t.dtype() == DType::kBF16 && t.device().is_cuda()) return absl::OkStatus();  // mixed precision on the GPU
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected f32 or f64 (or bf16 on CUDA)"));
}

Status check_dtype(const char* op, const Tensor& t, DType dtype, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.dtype() == dtype) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected dtype ", dtype_name(dtype)));
}

Status check_dim(const char* op, const Tensor& t, int64_t dim, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.dim() == dim) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected ", dim, " dims"));
}

Status check_min_dim(const char* op, const Tensor& t, int64_t min_dim, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.dim() >= min_dim) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected at least ", min_dim, " dims"));
}

Status check_shape(const char* op, const Tensor& t, const Shape& shape, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.shape() == shape) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected shape ", shape_string(shape)));
}

Status check_float_dims(const char* op, const Tensor& t, int64_t dims, const char* name) {
  MONE_RETURN_IF_ERROR(check_float(op, t, name));
  return check_dim(op, t, dims, name);
}

Status check_index_dtype(const char* op, const Tensor& t, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.dtype() == DType::kI32 || t.dtype() == DType::kI64) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected i32 or i64"));
}

Status check_same(const char* op, TensorArgs args) {
  const Tensor* first = nullptr;
  for (const auto& [name, t] : args) {
    MONE_RETURN_IF_ERROR(check_defined(op, *t, name));
    if (first == nullptr) first = t;
    if (t->device() != first->device() || t->dtype() != first->dtype()) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": arguments differ in dtype or device: ", describe_args(args)));
    }
  }
  return absl::OkStatus();
}

Status check_float_same_shape(const char* op, TensorArgs args) {
  MONE_RETURN_IF_ERROR(check_same(op, args));
  const Tensor* first = args.begin()->second;
  MONE_RETURN_IF_ERROR(check_float(op, *first, args.begin()->first));
  for (const auto& [name, t] : args) {
    if (t->shape() != first->shape()) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": shapes differ: ", describe_args(args)));
    }
  }
  return absl::OkStatus();
}

Status check_like(const char* op, const Tensor& t, const Shape& shape, const Tensor& like, const char* name) {
  MONE_RETURN_IF_ERROR(check_shape(op, t, shape, name));
  if (t.dtype() != like.dtype() || t.device() != like.device()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", t.describe(),
                                                   ", expected the dtype and device of ", like.describe()));
  }
  return absl::OkStatus();
}

Status check_optional(const char* op, const Tensor& t, const Shape& shape, const Tensor& like, const char* name) {
  return t.defined() ? check_like(op, t, shape, like, name) : absl::OkStatus();
}

namespace {

// The first index of p[0, n) outside range (neither in [0, bound) nor its skip value) and its value.
template <typename I>
std::optional<std::pair<int64_t, int64_t>> first_outside(const I* p, int64_t n, const IndexRange& range) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = p[i];
    if ((v < 0 || v >= range.bound) && !(range.skip && v == *range.skip)) return std::pair{i, v};
  }
  return std::nullopt;
}

}  // namespace

Status check_indices(const char* op, const Tensor& index, const char* name, const IndexRange& range) {
  MONE_RETURN_IF_ERROR(check_index_dtype(op, index, name));
  if (!index.device().is_cpu()) return absl::OkStatus();  // the policy in common.h
  const Tensor ids = index.contiguous();  // read as stored: i32 or i64
  const auto bad = ids.dtype() == DType::kI32 ? first_outside(ids.data<int32_t>(), ids.numel(), range)
                                              : first_outside(ids.data<int64_t>(), ids.numel(), range);
  if (!bad) return absl::OkStatus();
  const auto [i, value] = *bad;
  return absl::InvalidArgumentError(absl::StrCat(
      op, ": ", name, position_string(ids.shape(), i), " = ", value, " is outside [0, ",
      range.bound_name ? absl::StrCat(range.bound_name, " = ") : "", range.bound, ")",
      range.skip ? absl::StrCat(" and is not ", range.skip_name, " ", *range.skip) : "",
      range.context.empty() ? "" : "; ", range.context));
}

Status check_offsets(const char* op, const Tensor& offsets_in, int64_t e, int64_t rows) {
  MONE_RETURN_IF_ERROR(check_dtype(op, offsets_in, DType::kI64, "offsets"));
  MONE_RETURN_IF_ERROR(check_shape(op, offsets_in, {e + 1}, "offsets"));
  if (!offsets_in.device().is_cpu()) return absl::OkStatus();  // the policy in common.h
  const Tensor offsets = offsets_in.contiguous();
  const int64_t* o = offsets.data<int64_t>();
  bool ok = o[0] == 0 && o[e] == rows;
  for (int64_t j = 0; j < e && ok; ++j) ok = o[j] <= o[j + 1];
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(op, ": offsets must rise from 0 to the input's ", rows,
                                                 " rows, got [", o[0], ", ..., ", o[e], "]"));
}

StatusOr<int64_t> normalize_dim(const char* op, int64_t dim, int64_t rank) {
  if (dim < -rank || dim >= rank) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": dim ", dim, " is out of range for rank ", rank));
  }
  return dim < 0 ? dim + rank : dim;
}

Tensor index_as_i64(const Tensor& index) {
  return value_or_die(index.contiguous().to(DType::kI64), "index_as_i64");
}

Status unsupported_device(const char* op, Device device) {
  return absl::UnimplementedError(absl::StrCat(op, ": no kernel for device ", device.to_string(), " yet"));
}

StatusOr<Tensor> new_tensor(const Shape& shape, DType dtype, Device device) {
  return Tensor::empty(shape, dtype, device);
}

}  // namespace mone::ops

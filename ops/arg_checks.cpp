#include "ops/arg_checks.h"

#include "absl/strings/str_join.h"
#include "ops/common.h"

namespace mone::ops {

Status check_float_same_shape(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> args) {
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

Status check_min_dim(const char* op, const Tensor& t, int64_t min_dim, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.dim() >= min_dim) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected at least ", min_dim, " dims"));
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

StatusOr<std::optional<BadIndex>> first_out_of_range(const Tensor& index, int64_t bound,
                                                     std::optional<int64_t> skip) {
  MONE_ASSIGN_OR_RETURN(Tensor host, index.to(Device::cpu()));
  const Tensor ids = index_as_i64(host);
  const int64_t* p = ids.data<int64_t>();
  for (int64_t i = 0; i < ids.numel(); ++i) {
    if ((p[i] < 0 || p[i] >= bound) && !(skip && p[i] == *skip)) return BadIndex{i, p[i]};
  }
  return std::nullopt;
}

std::string position_string(const Shape& shape, int64_t p) {
  std::vector<int64_t> coords(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    coords[d] = shape[d] == 0 ? 0 : p % shape[d];
    p = shape[d] == 0 ? 0 : p / shape[d];
  }
  return absl::StrCat("[", absl::StrJoin(coords, ", "), "]");
}

}  // namespace mone::ops

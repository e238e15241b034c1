#include "ops/common.h"

#include "absl/strings/str_join.h"

namespace mone::ops {

std::string describe_args(std::initializer_list<std::pair<const char*, const Tensor*>> args) {
  std::vector<std::string> parts;
  for (const auto& [name, t] : args) parts.push_back(absl::StrCat(name, " is ", t->describe()));
  return absl::StrJoin(parts, ", ");
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

Status check_shape(const char* op, const Tensor& t, const Shape& shape, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.shape() == shape) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected shape ", shape_string(shape)));
}

Status check_same(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> args) {
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

Status check_index_dtype(const char* op, const Tensor& t, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.dtype() == DType::kI32 || t.dtype() == DType::kI64) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected i32 or i64"));
}

Status unsupported_device(const char* op, Device device) {
  return absl::UnimplementedError(absl::StrCat(op, ": no kernel for device ", device.to_string(), " yet"));
}

StatusOr<Tensor> new_tensor(const Shape& shape, DType dtype, Device device) {
  return Tensor::empty(shape, dtype, device);
}

}  // namespace mone::ops

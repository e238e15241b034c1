#include "ops/cuda_dispatch.h"

#include "ops/common.h"

namespace mone::ops {

Status check_float_on_device(const char* op, const Tensor& t, const char* name) {
  MONE_RETURN_IF_ERROR(check_defined(op, t, name));
  if (t.device().is_cpu()) return check_float(op, t, name);
  if (t.dtype() == DType::kF32 || t.dtype() == DType::kBF16) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected f32 or bf16 on ", t.device().to_string()));
}

StatusOr<Tensor> cuda_workspace(size_t bytes, Device device) {
  return new_tensor({static_cast<int64_t>((bytes + 7) / 8)}, DType::kI64, device);
}

}  // namespace mone::ops

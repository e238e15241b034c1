#include "cuda/elementwise.h"

#ifdef MONE_WITH_CUDA
#include "cuda/elementwise_kernels.h"
#endif

namespace mone::cuda {

namespace {
#ifdef MONE_WITH_CUDA
Status to_status(const char* op, const char* error) {
  if (error == nullptr) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(op, " (CUDA): ", error));
}
#else
Status no_cuda(const char* op) {
  return absl::FailedPreconditionError(absl::StrCat(op, ": mone was built without CUDA"));
}
#endif
}  // namespace

Status binary_forward(BinaryKind kind, const float* a, int64_t na, const float* b, int64_t nb, float* out) {
#ifdef MONE_WITH_CUDA
  return to_status("binary", kernels::launch_binary(static_cast<int>(kind), a, na, b, nb, out));
#else
  return no_cuda("binary");
#endif
}

Status scale(const float* a, int64_t n, float s, float* out) {
#ifdef MONE_WITH_CUDA
  return to_status("scale", kernels::launch_scale(a, n, s, out));
#else
  return no_cuda("scale");
#endif
}

}  // namespace mone::cuda

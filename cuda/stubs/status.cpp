// Built without CUDA: stands in for cuda/status.cpp.
#include "cuda/status.h"

namespace mone::cuda {

Status to_status(cudaError_t error, const char* op) {
  if (error == cudaSuccess) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(op, ": mone was built without CUDA (configure with -DMONE_CUDA=ON)"));
}

}  // namespace mone::cuda

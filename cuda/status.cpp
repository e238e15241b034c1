#include "cuda/status.h"

#include <cuda_runtime.h>

namespace mone::cuda {

Status to_status(cudaError_t error, const char* op) {
  if (error == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(op, " (CUDA): ", cudaGetErrorString(error), " [", cudaGetErrorName(error), "]"));
}

}  // namespace mone::cuda

// The one adapter from a CUDA launcher's cudaError_t (cuda/launch.h) to a Status that names the op:
//   "add (CUDA): an illegal memory access was encountered [cudaErrorIllegalAddress]".
// Built without CUDA, every error reads "add: mone was built without CUDA".
// Shape letters: none.
#pragma once

#include "core/status.h"
#include "cuda/launch.h"

namespace mone::cuda {

Status to_status(cudaError_t error, const char* op);

}  // namespace mone::cuda

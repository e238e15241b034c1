// Built without CUDA: stands in for cuda/rope.cu.
#include "cuda/rope.h"

namespace mone::cuda {

template <typename T>
cudaError_t rope_rotate(T*, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, double, bool, float*,
                        cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_ROPE_LAUNCHERS)

}  // namespace mone::cuda

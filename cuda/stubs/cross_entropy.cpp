// Built without CUDA: stands in for cuda/cross_entropy.cu.
#include "cuda/cross_entropy.h"

namespace mone::cuda {

template <typename T>
cudaError_t cross_entropy_forward(const T*, const int64_t*, int64_t, int64_t, int64_t, int64_t, T*, double*, T*,
                                  cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t cross_entropy_backward(const T*, const int64_t*, const T*, int64_t, int64_t, int64_t, const T*, int64_t,
                                   T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_CROSS_ENTROPY_LAUNCHERS)

}  // namespace mone::cuda

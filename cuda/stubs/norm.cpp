// Built without CUDA: stands in for cuda/norm.cu.
#include "cuda/norm.h"

namespace mone::cuda {

template <typename T>
cudaError_t rmsnorm_forward(T*, T*, const T*, const T*, int64_t, int64_t, double, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t rmsnorm_backward(T*, T*, const T*, const T*, const T*, const T*, int64_t, int64_t, double*,
                             cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_NORM_LAUNCHERS)

}  // namespace mone::cuda

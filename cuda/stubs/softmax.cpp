// Built without CUDA: stands in for cuda/softmax.cu.
#include "cuda/softmax.h"

namespace mone::cuda {

template <typename T>
cudaError_t softmax_forward(const T*, int64_t, int64_t, bool, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t softmax_backward(const T*, const T*, int64_t, int64_t, bool, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_SOFTMAX_LAUNCHERS)

}  // namespace mone::cuda

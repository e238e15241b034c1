// Built without CUDA: stands in for cuda/activation.cu.
#include "cuda/activation.h"

namespace mone::cuda {

template <typename T>
cudaError_t activation_forward(ops::Activation, const T*, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t activation_backward(ops::Activation, const T*, const T*, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t swiglu_forward(const T*, const T*, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t swiglu_backward(const T*, const T*, const T*, int64_t, T*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_ACTIVATION_LAUNCHERS)

}  // namespace mone::cuda

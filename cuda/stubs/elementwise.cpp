// Built without CUDA: stands in for cuda/elementwise.cu.
#include "cuda/elementwise.h"

namespace mone::cuda {

template <typename T>
cudaError_t binary_forward(ops::BinaryOp, const T*, int64_t, const T*, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t scale(const T*, int64_t, float, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

cudaError_t add_counts(int64_t*, const int64_t*, int64_t, cudaStream_t) { return cudaErrorNoDevice; }
template <typename T>
cudaError_t clamp(const T*, int64_t, float, float, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t clamp_backward(const T*, const T*, int64_t, float, float, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_ELEMENTWISE_LAUNCHERS)

}  // namespace mone::cuda

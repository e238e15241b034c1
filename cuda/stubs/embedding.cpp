// Built without CUDA: stands in for cuda/embedding.cu.
#include "cuda/embedding.h"

namespace mone::cuda {

template <typename T>
cudaError_t embedding_forward(const T*, const int64_t*, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
int64_t embedding_backward_keys(int64_t) { return 0; }
template <typename T>
cudaError_t embedding_backward(const T*, const int64_t*, int64_t, int64_t, int64_t, uint64_t*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_EMBEDDING_LAUNCHERS)

}  // namespace mone::cuda

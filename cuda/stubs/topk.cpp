// Built without CUDA: stands in for cuda/topk.cu.
#include "cuda/topk.h"

namespace mone::cuda {

cudaError_t topk_workspace(int64_t, int64_t, size_t*) { return cudaErrorNoDevice; }

template <typename T>
cudaError_t topk_forward(T*, int64_t*, const T*, int64_t, int64_t, int64_t, void*, size_t, cudaStream_t) {
  return cudaErrorNoDevice;
}

template cudaError_t topk_forward<float>(float*, int64_t*, const float*, int64_t, int64_t, int64_t, void*, size_t,
                                         cudaStream_t);
template cudaError_t topk_forward<bf16>(bf16*, int64_t*, const bf16*, int64_t, int64_t, int64_t, void*, size_t,
                                        cudaStream_t);

}  // namespace mone::cuda

// Built without CUDA: stands in for cuda/gather.cu.
#include "cuda/gather.h"

namespace mone::cuda {

template <typename T, typename I>
cudaError_t gather_forward(T*, const T*, const I*, int64_t, const GatherGeometry&, cudaStream_t) {
  return cudaErrorNoDevice;
}

cudaError_t scatter_add_workspace(int64_t, size_t*) { return cudaErrorNoDevice; }

template <typename T, typename I>
cudaError_t scatter_add_forward(T*, int64_t, const T*, const I*, int64_t, const GatherGeometry&, void*, size_t,
                                cudaStream_t) {
  return cudaErrorNoDevice;
}

#define MONE_INSTANTIATE(T, I)                                                                                   \
  template cudaError_t gather_forward<T, I>(T*, const T*, const I*, int64_t, const GatherGeometry&, cudaStream_t); \
  template cudaError_t scatter_add_forward<T, I>(T*, int64_t, const T*, const I*, int64_t, const GatherGeometry&,  \
                                                 void*, size_t, cudaStream_t);
MONE_INSTANTIATE(float, int32_t)
MONE_INSTANTIATE(float, int64_t)
MONE_INSTANTIATE(bf16, int32_t)
MONE_INSTANTIATE(bf16, int64_t)
#undef MONE_INSTANTIATE

}  // namespace mone::cuda

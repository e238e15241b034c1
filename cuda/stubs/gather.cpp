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

MONE_GATHER_INSTANTIATE_ALL

}  // namespace mone::cuda

// Built without CUDA: stands in for cuda/moe_dispatch.cu.
#include "cuda/moe_dispatch.h"

namespace mone::cuda {

cudaError_t build_dispatch(const int64_t*, int64_t, int64_t, int64_t*, int64_t*, int64_t*, int64_t*, int64_t*,
                           cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t permute_forward(const T*, const int64_t*, int64_t, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t combine_forward(const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t combine_backward(const T*, const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, T*, T*,
                             cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_MOE_DISPATCH_LAUNCHERS)

}  // namespace mone::cuda

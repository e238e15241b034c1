// Built without CUDA: stands in for cuda/router.cu.
#include "cuda/router.h"

namespace mone::cuda {

template <typename T>
cudaError_t router_select(const T*, int64_t, int64_t, int64_t, bool, T*, int32_t*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t router_logits_backward(const T*, const T*, const T*, const T*, const int32_t*, const T*, int64_t, int64_t,
                                   int64_t, bool, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_ROUTER_LAUNCHERS)

}  // namespace mone::cuda

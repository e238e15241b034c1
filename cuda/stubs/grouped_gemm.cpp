// Built without CUDA: stands in for cuda/grouped_gemm.cu.
#include "cuda/grouped_gemm.h"

namespace mone::cuda {

template <typename T>
cudaError_t grouped_gemm(const GroupedGemm&, const T*, const T*, float, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_GROUPED_GEMM_LAUNCHERS)

}  // namespace mone::cuda

// Built without CUDA: stands in for cuda/sort.cu.
#include "cuda/sort.h"

namespace mone::cuda {

cudaError_t sort_pairs_workspace(int64_t, size_t*) { return cudaErrorNoDevice; }
SortBuffers sort_buffers(void*, size_t, int64_t) { return SortBuffers{}; }
cudaError_t sort_pairs(const SortBuffers&, int64_t, int, cudaStream_t) { return cudaErrorNoDevice; }

}  // namespace mone::cuda

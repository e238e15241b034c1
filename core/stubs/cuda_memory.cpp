// Built without CUDA: stands in for core/cuda_memory.cpp; every call says so, nothing aborts.
#include "core/cuda_memory.h"

namespace mone::cuda_memory {

namespace {
Status no_cuda() {
  return absl::FailedPreconditionError("mone was built without CUDA (configure with -DMONE_CUDA=ON)");
}
}  // namespace

int device_count() { return 0; }
StatusOr<void*> allocate(size_t, int) { return no_cuda(); }
void release(void*, size_t, int) {}
Status copy(void*, bool, const void*, bool, size_t) { return no_cuda(); }
void empty_cache() {}
MemoryStats memory_stats(int) { return {}; }
void reset_peak(int) {}
Status convert_strided(void*, DType, const void*, DType, const std::vector<int64_t>&, const std::vector<int64_t>&,
                       int) {
  return no_cuda();
}

}  // namespace mone::cuda_memory

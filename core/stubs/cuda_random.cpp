// Built without CUDA: stands in for core/cuda_random.cpp.
#include "core/cuda_random.h"

namespace mone::cuda_random {

namespace {
Status no_cuda(const char* op) {
  return absl::FailedPreconditionError(absl::StrCat(op, ": mone was built without CUDA (configure with -DMONE_CUDA=ON)"));
}
}  // namespace

Status fill_normal(void*, DType, int64_t, int, uint64_t, uint64_t, double, double) { return no_cuda("fill_normal"); }
Status fill_uniform(void*, DType, int64_t, int, uint64_t, uint64_t, double, double) { return no_cuda("fill_uniform"); }

}  // namespace mone::cuda_random

// Built without CUDA: stands in for cuda/blas.cpp.
#include "cuda/blas.h"

namespace mone::cuda {

namespace {
thread_local bool tls_allow_tf32 = false;
}  // namespace

Status gemm_batched(DType, int64_t, bool, bool, int64_t, int64_t, int64_t, float, const void*, int64_t, int64_t,
                    const void*, int64_t, int64_t, float, void*, int64_t, int64_t, int, cudaStream_t,
                    const char* op) {
  return absl::FailedPreconditionError(absl::StrCat(op, ": mone was built without CUDA (configure with -DMONE_CUDA=ON)"));
}
void set_allow_tf32(bool allow) { tls_allow_tf32 = allow; }
bool allow_tf32() { return tls_allow_tf32; }

}  // namespace mone::cuda

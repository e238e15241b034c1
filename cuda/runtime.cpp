#include "cuda/runtime.h"

#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/storage.h"

namespace mone::cuda {

namespace {
thread_local cudaStream_t current = nullptr;
}  // namespace

bool built_with_cuda() { return true; }

std::string describe_devices() {
  const int n = cuda_device_count();
  if (n == 0) return "built with CUDA; no GPU visible";
  std::string out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      absl::StrAppend(&out, absl::StrFormat("cuda:%d (properties unavailable)\n", i));
      continue;
    }
    absl::StrAppend(&out, absl::StrFormat("cuda:%d %s, sm_%d%d, %.1f GiB\n", i, p.name, p.major, p.minor,
                                          p.totalGlobalMem / 1073741824.0));
  }
  return out;
}

cudaStream_t current_stream() { return current; }

StreamGuard::StreamGuard(cudaStream_t stream) : previous_(current) { current = stream; }
StreamGuard::~StreamGuard() { current = previous_; }

}  // namespace mone::cuda

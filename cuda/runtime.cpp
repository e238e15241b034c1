#include "cuda/runtime.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/storage.h"

#ifdef MONE_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace mone::cuda {

bool built_with_cuda() {
#ifdef MONE_WITH_CUDA
  return true;
#else
  return false;
#endif
}

std::string describe_devices() {
#ifdef MONE_WITH_CUDA
  const int n = cuda_device_count();
  if (n == 0) return "built with CUDA; no GPU visible";
  std::string out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p;
    cudaGetDeviceProperties(&p, i);
    absl::StrAppend(&out, absl::StrFormat("cuda:%d %s, sm_%d%d, %.1f GiB\n", i, p.name, p.major, p.minor,
                                          p.totalGlobalMem / 1073741824.0));
  }
  return out;
#else
  return "built without CUDA";
#endif
}

}  // namespace mone::cuda

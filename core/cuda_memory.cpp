#include "core/cuda_memory.h"

#include <map>
#include <mutex>
#include <vector>

#include <cuda_runtime.h>

namespace mone::cuda_memory {

namespace {
// Free blocks by (device, rounded size). Sizes are rounded up to 512 bytes, or to 2 MiB above
// 1 MiB, so a block freed by one step fits the same request in the next.
struct Cache {
  std::mutex mu;
  std::map<std::pair<int, size_t>, std::vector<void*>> free_blocks;
};
Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: outlives every Storage
  return *c;
}
size_t round_size(size_t n) {
  const size_t unit = n > (1u << 20) ? (2u << 20) : 512;
  return (n + unit - 1) / unit * unit;
}
Status cuda_error(cudaError_t e, const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", cudaGetErrorString(e)));
}
}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

StatusOr<void*> allocate(size_t nbytes, int device) {
  if (device >= device_count()) {
    return absl::FailedPreconditionError(absl::StrCat("no CUDA device ", device, " on this machine"));
  }
  const size_t size = round_size(nbytes == 0 ? 1 : nbytes);
  {
    std::lock_guard<std::mutex> lock(cache().mu);
    auto it = cache().free_blocks.find({device, size});
    if (it != cache().free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      return p;
    }
  }
  cudaSetDevice(device);
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, size);
  if (e != cudaSuccess) {
    cudaGetLastError();
    empty_cache();  // retry once with the cache handed back
    e = cudaMalloc(&p, size);
    if (e != cudaSuccess) return cuda_error(e, "cudaMalloc");
  }
  return p;
}

void release(void* ptr, size_t nbytes, int device) {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().free_blocks[{device, round_size(nbytes == 0 ? 1 : nbytes)}].push_back(ptr);
}

Status copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t nbytes) {
  cudaMemcpyKind kind = dst_on_device ? (src_on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                      : (src_on_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  cudaError_t e = cudaMemcpy(dst, src, nbytes, kind);
  if (e != cudaSuccess) return cuda_error(e, "cudaMemcpy");
  return absl::OkStatus();
}

void empty_cache() {
  std::lock_guard<std::mutex> lock(cache().mu);
  for (auto& [key, blocks] : cache().free_blocks) {
    for (void* p : blocks) cudaFree(p);
  }
  cache().free_blocks.clear();
}

}  // namespace mone::cuda_memory

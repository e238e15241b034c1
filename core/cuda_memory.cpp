#include "core/cuda_memory.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include <cuda_runtime.h>

#include "core/cuda_copy.h"

namespace mone::cuda_memory {

namespace {
// Free blocks by (device, size class), and the byte counts of each device.
struct Cache {
  std::mutex mu;
  std::map<std::pair<int, size_t>, std::vector<void*>> free_blocks;
  std::map<int, MemoryStats> stats;
};
Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: outlives every Storage
  return *c;
}
// The size class of a request: 512-byte steps, or 2 MiB steps above 1 MiB, so a block freed by
// one step fits the same request in the next.
size_t round_size(size_t n) {
  if (n == 0) n = 1;
  const size_t unit = n > (1u << 20) ? (2u << 20) : 512;
  return (n + unit - 1) / unit * unit;
}
Status cuda_error(cudaError_t e, const char* what) {
  return absl::InternalError(absl::StrCat(what, " (CUDA): ", cudaGetErrorString(e), " [", cudaGetErrorName(e), "]"));
}
// Called with the lock held: a block of `size` bytes goes to a Storage.
void count_handed_out(int device, size_t size) {
  MemoryStats& s = cache().stats[device];
  s.current_bytes += size;
  s.peak_bytes = std::max(s.peak_bytes, s.current_bytes);
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
  if (device < 0 || device >= device_count()) {
    return absl::FailedPreconditionError(absl::StrCat("no CUDA device ", device, " on this machine"));
  }
  const size_t size = round_size(nbytes);
  {
    std::lock_guard<std::mutex> lock(cache().mu);
    auto it = cache().free_blocks.find({device, size});
    if (it != cache().free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      cache().stats[device].cached_bytes -= size;
      count_handed_out(device, size);
      return p;
    }
  }
  cudaError_t e = cudaSetDevice(device);
  if (e != cudaSuccess) return cuda_error(e, "cudaSetDevice");
  void* p = nullptr;
  e = cudaMalloc(&p, size);
  if (e != cudaSuccess) {
    cudaGetLastError();
    empty_cache();  // retry once with the cache handed back
    e = cudaMalloc(&p, size);
    if (e != cudaSuccess) {
      return cuda_error(e, absl::StrCat("cudaMalloc of ", size, " bytes on cuda:", device).c_str());
    }
  }
  std::lock_guard<std::mutex> lock(cache().mu);
  count_handed_out(device, size);
  return p;
}

void release(void* ptr, size_t nbytes, int device) {
  const size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().free_blocks[{device, size}].push_back(ptr);
  MemoryStats& s = cache().stats[device];
  s.current_bytes -= size;
  s.cached_bytes += size;
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
    cache().stats[key.first].cached_bytes -= key.second * blocks.size();
  }
  cache().free_blocks.clear();
}

MemoryStats memory_stats(int device) {
  std::lock_guard<std::mutex> lock(cache().mu);
  auto it = cache().stats.find(device);
  return it == cache().stats.end() ? MemoryStats{} : it->second;
}

void reset_peak(int device) {
  std::lock_guard<std::mutex> lock(cache().mu);
  MemoryStats& s = cache().stats[device];
  s.peak_bytes = s.current_bytes;
}

Status convert_strided(void* dst, DType dst_dtype, const void* src_base, DType src_dtype,
                       const std::vector<int64_t>& dims, const std::vector<int64_t>& strides, int device) {
  if (dims.size() > static_cast<size_t>(cuda_copy::kMaxDims)) {
    return absl::UnimplementedError(absl::StrCat("copy of a CUDA view with ", dims.size(), " dimensions (at most ",
                                                 cuda_copy::kMaxDims, ")"));
  }
  cuda_copy::Layout layout;
  layout.ndim = static_cast<int>(dims.size());
  std::copy(dims.begin(), dims.end(), layout.dims);
  std::copy(strides.begin(), strides.end(), layout.strides);
  cudaError_t e = cudaSetDevice(device);
  if (e == cudaSuccess) e = cuda_copy::strided_convert(dst, dst_dtype, src_base, src_dtype, layout, 1.0, 0.0, nullptr);
  if (e != cudaSuccess) {
    return cuda_error(e, absl::StrCat("copy ", dtype_name(src_dtype), " -> ", dtype_name(dst_dtype)).c_str());
  }
  return absl::OkStatus();
}

}  // namespace mone::cuda_memory

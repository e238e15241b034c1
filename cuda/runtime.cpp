#include "cuda/runtime.h"

#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/storage.h"
#include "cuda/status.h"

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
    auto info = device_info(i);
    if (!info.ok()) {
      absl::StrAppend(&out, absl::StrFormat("cuda:%d (properties unavailable)\n", i));
      continue;
    }
    absl::StrAppend(&out, absl::StrFormat("cuda:%d %s, sm_%d%d, %.1f GiB\n", i, info->name, info->major, info->minor,
                                          info->memory_bytes / 1073741824.0));
  }
  return out;
}

StatusOr<DeviceInfo> device_info(int device) {
  cudaDeviceProp p;
  MONE_RETURN_IF_ERROR(to_status(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties"));
  DeviceInfo info;
  info.name = p.name;
  info.major = p.major;
  info.minor = p.minor;
  info.multiprocessors = p.multiProcessorCount;
  info.memory_bytes = p.totalGlobalMem;
  info.l2_bytes = p.l2CacheSize;
  return info;
}

Status set_device(int device) { return to_status(cudaSetDevice(device), "cudaSetDevice"); }

Status synchronize(cudaStream_t stream, const char* op) { return to_status(cudaStreamSynchronize(stream), op); }

StatusOr<Stream> Stream::create(int device) {
  MONE_RETURN_IF_ERROR(set_device(device));
  cudaStream_t s = nullptr;
  MONE_RETURN_IF_ERROR(to_status(cudaStreamCreate(&s), "cudaStreamCreate"));
  return Stream(s);
}

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    stream_ = other.stream_;
    other.stream_ = nullptr;
  }
  return *this;
}

Stream::~Stream() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

cudaStream_t current_stream() { return current; }

cudaError_t memset_zero(void* dst, size_t bytes, cudaStream_t stream) {
  return bytes == 0 ? cudaSuccess : cudaMemsetAsync(dst, 0, bytes, stream);
}

StreamGuard::StreamGuard(cudaStream_t stream) : previous_(current) { current = stream; }
StreamGuard::~StreamGuard() { current = previous_; }

}  // namespace mone::cuda

// The CUDA runtime as mone sees it: which devices there are, the calling thread's device, streams,
// and the stream ops launch on. Plain C++ header: ops/ includes it without nvcc. Built without
// CUDA, it reports no devices and every call returns a Status saying so.
//
// Streams are passed explicitly to every launcher (cuda/launch.h). The op functions of ops/ take
// tensors, not streams, so they ask current_stream(): the calling thread's stream, which is the
// default stream unless a StreamGuard on this thread chose another. There is no process-wide
// device state: each thread has its own current stream (and CUDA's own current device).
//
// Streams made here are blocking streams: they order with the legacy default stream, on which
// core/ copies tensors and the caching allocator's reuse relies (core/cuda_memory.h).
// Shape letters: none.
#pragma once

#include <cstddef>
#include <string>

#include "core/status.h"
#include "cuda/launch.h"

namespace mone::cuda {

// True when this binary was built with the CUDA backend.
bool built_with_cuda();
// One line per visible GPU ("cuda:0 NVIDIA H200, sm_90, 139.8 GiB"), or why there is none.
std::string describe_devices();

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;  // compute capability
  int multiprocessors = 0;
  size_t memory_bytes = 0, l2_bytes = 0;
};
StatusOr<DeviceInfo> device_info(int device);

// Makes `device` the calling thread's current device (cudaSetDevice).
Status set_device(int device);
// Waits for the work queued on `stream`; the error names `op` (a kernel's asynchronous fault
// surfaces here).
Status synchronize(cudaStream_t stream, const char* op);

// A stream owned by its holder, destroyed with it.
class Stream {
 public:
  static StatusOr<Stream> create(int device);
  Stream(Stream&& other) noexcept : stream_(other.stream_) { other.stream_ = nullptr; }
  Stream& operator=(Stream&& other) noexcept;
  ~Stream();
  cudaStream_t get() const { return stream_; }

 private:
  explicit Stream(cudaStream_t s) : stream_(s) {}
  cudaStream_t stream_ = nullptr;
};

// The stream the calling thread's ops launch on (nullptr: the default stream).
cudaStream_t current_stream();

// Zeroes `bytes` bytes of device memory at `dst`, queued on `stream` (cudaMemsetAsync): the
// launcher-style fill for ops that zero a buffer before a kernel adds into it.
cudaError_t memset_zero(void* dst, size_t bytes, cudaStream_t stream);

// While alive, the calling thread's ops launch on `stream`; the previous stream comes back after.
class StreamGuard {
 public:
  explicit StreamGuard(cudaStream_t stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  cudaStream_t previous_;
};

}  // namespace mone::cuda

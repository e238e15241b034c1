// The CUDA runtime as mone sees it: which devices there are, and the stream ops launch on.
// Plain C++ header: ops/ includes it without nvcc. Built without CUDA, it reports no devices.
//
// Streams are passed explicitly to every launcher (cuda/launch.h). The op functions of ops/ take
// tensors, not streams, so they ask current_stream(): the calling thread's stream, which is the
// default stream unless a StreamGuard on this thread chose another. There is no process-wide
// device state: each thread has its own current stream.
// Shape letters: none.
#pragma once

#include <string>

#include "cuda/launch.h"

namespace mone::cuda {

// True when this binary was built with the CUDA backend.
bool built_with_cuda();
// One line per visible GPU ("cuda:0 NVIDIA H200, sm_90, 139.8 GiB"), or why there is none.
std::string describe_devices();

// The stream the calling thread's ops launch on (nullptr: the default stream).
cudaStream_t current_stream();

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

// Storage: one reference-counted block of memory on one device, plus a version counter.
//
// The version counter is bumped by every in-place write through a Tensor; autograd remembers the
// version of each tensor it saves and refuses a backward that would read a modified one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/dtype.h"
#include "core/status.h"

namespace mone {

class Storage {
 public:
  // Allocates nbytes on `device` (64-byte aligned on the CPU; CUDA through the caching allocator).
  static StatusOr<std::shared_ptr<Storage>> allocate(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  Storage(void* data, size_t nbytes, Device device) : data_(data), nbytes_(nbytes), device_(device) {}
  void* data_;
  size_t nbytes_;
  Device device_;
  std::atomic<uint64_t> version_{0};
};

// Copies nbytes between any two devices (host<->device, device<->device, host<->host).
Status copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

// Number of CUDA devices usable by this build and machine (0 when built without CUDA or no GPU).
int cuda_device_count();

}  // namespace mone

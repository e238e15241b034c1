// Device memory for Storage: a caching allocator over cudaMalloc, its statistics, and copies.
//
// This sits in core/ (not cuda/) because Storage needs it and cuda/ sits above core/. Built
// without CUDA, every function here returns an error saying so; nothing aborts.
//
// The allocator rounds each request up to a size class (512 bytes; 2 MiB above 1 MiB) and keeps
// freed blocks per (device, class): the next request of that class reuses one, so the training
// hot path stops calling cudaMalloc after its first step. Blocks are reused in host order, which
// is safe because every kernel of mone runs in order on one stream per device: the legacy default
// stream, which also orders the copies here, or blocking streams (cuda/runtime.h), which order
// with it.
//
// Copies and conversions here run on the legacy default stream; device-to-host copies wait for
// the work queued before them.
// Shape letters: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace mone::cuda_memory {

int device_count();
// Returns a block of at least nbytes; freed blocks are cached by size class and reused.
StatusOr<void*> allocate(size_t nbytes, int device);
void release(void* ptr, size_t nbytes, int device);
Status copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t nbytes);
// Returns every cached block to the driver.
void empty_cache();

// Bytes on one device, counted in size classes (what the blocks really hold).
struct MemoryStats {
  size_t current_bytes = 0;  // held by live Storage now
  size_t peak_bytes = 0;     // the most current_bytes since the process started (or reset_peak)
  size_t cached_bytes = 0;   // freed blocks kept for reuse (not counted in current_bytes)
};
MemoryStats memory_stats(int device);
// Starts a new peak from the current bytes.
void reset_peak(int device);

// dst (dense, dst_dtype, on `device`) = the strided view src_base[dims, strides] (src_dtype, on the
// same device), converted element by element (core/cuda_copy.h). At most 8 dimensions.
Status convert_strided(void* dst, DType dst_dtype, const void* src_base, DType src_dtype, const std::vector<int64_t>& dims,
                       const std::vector<int64_t>& strides, int device);

}  // namespace mone::cuda_memory

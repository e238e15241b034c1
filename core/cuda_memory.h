// Device memory for Storage: a caching allocator over cudaMalloc, and copies.
//
// This sits in core/ (not cuda/) because Storage needs it and cuda/ sits above core/. Built
// without CUDA, every function here returns an error saying so; nothing aborts.
#pragma once

#include <cstddef>

#include "core/status.h"

namespace mone::cuda_memory {

int device_count();
// Returns a block of at least nbytes; freed blocks are cached by size and reused, so the
// training hot path never calls cudaMalloc after the first step.
StatusOr<void*> allocate(size_t nbytes, int device);
void release(void* ptr, size_t nbytes, int device);
Status copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t nbytes);
// Returns every cached block to the driver.
void empty_cache();

}  // namespace mone::cuda_memory

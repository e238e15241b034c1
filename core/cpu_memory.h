// Host memory for Storage and for the CPU kernels' scratch: a caching allocator over
// aligned_alloc, so that a training step, which asks for the same sizes as the step before,
// reuses freed blocks instead of mapping fresh pages (and taking a page fault per 4 KiB) every
// time. Blocks of at least kCachedBytes are rounded up to a size class (at most 12.5% larger), kept
// by class when released and handed out again; smaller ones go straight to malloc, whose bins
// already reuse them.
//
// Scratch<T> is a kernel's temporary array from the same cache. Thread-safe.
// Shape letters: none.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace mone::cpu_memory {

inline constexpr size_t kAlignment = 64;         // a cache line; what AVX-512 loads want
inline constexpr size_t kCachedBytes = 1 << 16;  // 64 KiB: below this, plain malloc

// At least nbytes, aligned to kAlignment; nullptr when out of memory.
void* allocate(size_t nbytes);
// Gives back a block from allocate(nbytes) (the same nbytes).
void release(void* ptr, size_t nbytes);
// Returns every cached block to the system.
void empty_cache();

struct Stats {
  size_t in_use = 0;  // bytes handed out and not yet released
  size_t peak = 0;    // the most in_use has been
  size_t cached = 0;  // bytes held for reuse
};
Stats stats();

// An uninitialised array of n T's from the cache, released when it goes out of scope.
template <typename T>
class Scratch {
 public:
  explicit Scratch(int64_t n) : n_(n > 0 ? n : 0), data_(static_cast<T*>(allocate(n_ * sizeof(T)))) {
    MONE_CHECK(data_ != nullptr) << "out of CPU memory for " << n_ * sizeof(T) << " bytes of scratch";
  }
  ~Scratch() { release(data_, n_ * sizeof(T)); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() const { return data_; }
  T& operator[](int64_t i) const { return data_[i]; }
  int64_t size() const { return n_; }

 private:
  int64_t n_;
  T* data_;
};

}  // namespace mone::cpu_memory

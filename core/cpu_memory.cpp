// Definitions and contracts: core/cpu_memory.h.
#include "core/cpu_memory.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace mone::cpu_memory {

namespace {

struct Cache {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_blocks;  // by rounded size
  Stats stats;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: outlives every Storage
  return *c;
}

// Small blocks round to the alignment; cached ones to a size class: the next multiple of an eighth
// of their power of two (at most 12.5% more), so that the sizes a step asks for, which vary with
// the routing (an expert's rows), fall into few classes that the next step finds again.
size_t rounded(size_t nbytes) {
  const size_t n = nbytes == 0 ? 1 : nbytes;
  if (n < kCachedBytes) return (n + kAlignment - 1) / kAlignment * kAlignment;
  size_t top = 1;
  while (top * 2 <= n) top *= 2;
  const size_t step = top / 8;
  return (n + step - 1) / step * step;
}

}  // namespace

void* allocate(size_t nbytes) {
  const size_t size = rounded(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.in_use += size;
    if (c.stats.in_use > c.stats.peak) c.stats.peak = c.stats.in_use;
    if (size >= kCachedBytes) {
      auto it = c.free_blocks.find(size);
      if (it != c.free_blocks.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        c.stats.cached -= size;
        return p;
      }
    }
  }
  void* p = std::aligned_alloc(kAlignment, size);
  if (p == nullptr) {
    empty_cache();  // retry once with the cache handed back
    p = std::aligned_alloc(kAlignment, size);
  }
  if (p == nullptr) {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.in_use -= size;
  }
  return p;
}

void release(void* ptr, size_t nbytes) {
  if (ptr == nullptr) return;
  const size_t size = rounded(nbytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.in_use -= size;
  if (size < kCachedBytes) {
    std::free(ptr);
    return;
  }
  c.free_blocks[size].push_back(ptr);
  c.stats.cached += size;
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [size, blocks] : c.free_blocks) {
    for (void* p : blocks) std::free(p);
  }
  c.free_blocks.clear();
  c.stats.cached = 0;
}

Stats stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().stats;
}

}  // namespace mone::cpu_memory

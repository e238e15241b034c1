#include "ops/cpu/gemm_timer.h"

#include <omp.h>

#include <atomic>
#include <chrono>

namespace mone::ops::cpu {

namespace {
std::atomic<bool> enabled{false};
std::atomic<int64_t> weighted_ns{0};  // Σ duration / (threads sharing the region)
}  // namespace

void set_gemm_timing(bool on) { enabled.store(on, std::memory_order_relaxed); }
void reset_gemm_time() { weighted_ns.store(0, std::memory_order_relaxed); }
double gemm_seconds() { return static_cast<double>(weighted_ns.load(std::memory_order_relaxed)) * 1e-9; }
bool gemm_timing_enabled() { return enabled.load(std::memory_order_relaxed); }

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void add_gemm_time(int64_t start_ns) {
  const int64_t d = now_ns() - start_ns;
  const int64_t share = omp_in_parallel() ? d / omp_get_num_threads() : d;
  weighted_ns.fetch_add(share, std::memory_order_relaxed);
}

}  // namespace mone::ops::cpu

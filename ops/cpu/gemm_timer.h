// How long the CPU spends inside BLAS GEMM: what `mone bench train` reports as the GEMM share of a
// training step. Off unless enabled (then two clock reads per GEMM call). A call made inside an
// OpenMP parallel region (attention's per-head products) counts 1/threads of its duration, so the
// total is comparable with wall time.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

void set_gemm_timing(bool enabled);
void reset_gemm_time();
double gemm_seconds();  // since the last reset

// Used by cpu::gemm: records one call that started at `start_ns` (steady clock).
bool gemm_timing_enabled();
void add_gemm_time(int64_t start_ns);
int64_t now_ns();

}  // namespace mone::ops::cpu

// The machine the trainer runs on: how many threads it uses, and what its peak FLOP/s is (the
// denominator of MFU).
#pragma once

#include <cstdint>

namespace mone::train {

// OpenMP threads (ours) and OpenBLAS threads (GEMM). threads <= 0 leaves the defaults (every core).
void set_num_threads(int64_t threads);
int num_threads();  // what OpenMP uses now

// Peak f32 FLOP/s as measured here: the best of `runs` cblas_sgemm calls multiplying two
// 512×512 matrices (2·512³ FLOPs each), after one warm-up call, on the current thread count.
// This is what the BLAS actually achieves on this machine, not the vendor's number, so MFU
// says how close training comes to the machine's own GEMM speed. Takes a few milliseconds.
double measure_peak_flops(int runs = 5);

}  // namespace mone::train

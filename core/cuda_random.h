// Random fills of CUDA tensors through cuRAND's Philox4x32-10 generator (the host API), for
// Generator::fill_normal / fill_uniform (core/rng.h) on CUDA tensors.
//
// A fill of n elements at generator offset `offset` reads cuRAND's stream for `seed` from word
// 4 · offset on: each element owns four 32-bit words, as each CPU element owns one Philox counter
// of four words, so consecutive fills never overlap and a (seed, offset) pair names the same
// numbers on every run. The GPU numbers are not the CPU's (cuRAND's Box-Muller and word order
// differ from core/rng.cpp): they share the distribution, not the bits (docs/SPECS.md).
//
// Built without CUDA, both return an error saying so.
// Shape letters: none; n elements.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/status.h"

namespace mone::cuda_random {

// dst[i] ~ Normal(mean, stddev) for i < n; dst is dense f32, f64 or bf16 on CUDA device `device`.
Status fill_normal(void* dst, DType dtype, int64_t n, int device, uint64_t seed, uint64_t offset, double mean,
                   double stddev);
// dst[i] ~ Uniform(lo, hi) (cuRAND draws u in (0, 1]; dst = lo + (hi - lo) · u).
Status fill_uniform(void* dst, DType dtype, int64_t n, int device, uint64_t seed, uint64_t offset, double lo,
                    double hi);

}  // namespace mone::cuda_random

// A seeded, counter-based random number generator (Philox4x32-10, Salmon et al. 2011).
//
// Element i of a draw is a pure function of (seed, offset + i): the numbers are the same on any
// thread count. CUDA tensors draw from cuRAND's Philox instead: same (seed, offset) bookkeeping and
// distribution, other numbers (core/cuda_random.h). A Generator is just (seed, offset); drawing n numbers
// advances the offset by n, and saving the pair in a checkpoint resumes the stream exactly.
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace mone {

// Four 32-bit random words for counter `counter` under key `seed`.
std::array<uint32_t, 4> philox4x32(uint64_t seed, uint64_t counter);

// Uniform in [0, 1) and standard normal for element `index` of stream `seed`.
double uniform_at(uint64_t seed, uint64_t index);
double normal_at(uint64_t seed, uint64_t index);

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint64_t offset = 0) : seed_(seed), offset_(offset) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }

  // Fill a contiguous f32/f64/bf16 tensor. On the CPU: OpenMP-parallel, same values on any thread
  // count. On CUDA: cuRAND's Philox on the device (core/cuda_random.h), same distribution, not the
  // CPU's bits; a cuRAND failure there aborts with the call named (the tensor exists, so the
  // device does: a failure is not the user's).
  void fill_normal(Tensor& t, double mean = 0.0, double stddev = 1.0);
  void fill_uniform(Tensor& t, double lo = 0.0, double hi = 1.0);
  double uniform();  // one draw
  double normal();

 private:
  uint64_t seed_;
  uint64_t offset_;
};

// Convenience: a new CPU tensor of normal(mean, std) values.
Tensor randn(const Shape& shape, DType dtype, Generator& gen, double mean = 0.0, double stddev = 1.0);
Tensor rand_uniform(const Shape& shape, DType dtype, Generator& gen, double lo = 0.0, double hi = 1.0);

}  // namespace mone

#include "core/rng.h"

#include <cmath>
#include <type_traits>

#include "core/cuda_random.h"

namespace mone {

std::array<uint32_t, 4> philox4x32(uint64_t seed, uint64_t counter) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += kW0;
    k1 += kW1;
  }
  return {c0, c1, c2, c3};
}

namespace {
// 53 random bits -> [0, 1).
double to_unit(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (lo >> 11);
  return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}
}  // namespace

double uniform_at(uint64_t seed, uint64_t index) {
  const auto r = philox4x32(seed, index);
  return to_unit(r[0], r[1]);
}

double normal_at(uint64_t seed, uint64_t index) {
  // Box-Muller on two uniforms from the same counter; u1 in (0, 1] keeps log finite.
  const auto r = philox4x32(seed, index);
  const double u1 = 1.0 - to_unit(r[0], r[1]);
  const double u2 = to_unit(r[2], r[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

namespace {
template <typename T, typename F>
void fill_with(Tensor& t, uint64_t offset, F&& draw) {
  T* p = t.data<T>();
  const int64_t n = t.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const double x = draw(offset + static_cast<uint64_t>(i));
    if constexpr (std::is_same_v<T, bf16>) p[i] = bf16(static_cast<float>(x));
    else p[i] = static_cast<T>(x);
  }
}
template <typename F>
void fill_dispatch(Tensor& t, uint64_t offset, F&& draw) {
  switch (t.dtype()) {
    case DType::kF64: fill_with<double>(t, offset, draw); break;
    case DType::kF32: fill_with<float>(t, offset, draw); break;
    case DType::kBF16: fill_with<bf16>(t, offset, draw); break;
    default: MONE_CHECK(false) << "random fill of a " << t.describe() << " tensor";
  }
}
}  // namespace

void Generator::fill_normal(Tensor& t, double mean, double stddev) {
  MONE_CHECK(t.is_contiguous()) << "fill_normal on " << t.describe();
  if (t.device().is_cuda()) {
    MONE_CHECK_OK(cuda_random::fill_normal(t.raw_data(), t.dtype(), t.numel(), t.device().index, seed_, offset_,
                                           mean, stddev));
    offset_ += t.numel();
    t.bump_version();
    return;
  }
  auto draw = [&](uint64_t i) { return mean + stddev * normal_at(seed_, i); };
  fill_dispatch(t, offset_, draw);
  offset_ += t.numel();
  t.bump_version();
}

void Generator::fill_uniform(Tensor& t, double lo, double hi) {
  MONE_CHECK(t.is_contiguous()) << "fill_uniform on " << t.describe();
  if (t.device().is_cuda()) {
    MONE_CHECK_OK(cuda_random::fill_uniform(t.raw_data(), t.dtype(), t.numel(), t.device().index, seed_, offset_, lo,
                                            hi));
    offset_ += t.numel();
    t.bump_version();
    return;
  }
  auto draw = [&](uint64_t i) { return lo + (hi - lo) * uniform_at(seed_, i); };
  fill_dispatch(t, offset_, draw);
  offset_ += t.numel();
  t.bump_version();
}

double Generator::uniform() { return uniform_at(seed_, offset_++); }
double Generator::normal() { return normal_at(seed_, offset_++); }

Tensor randn(const Shape& shape, DType dtype, Generator& gen, double mean, double stddev) {
  Tensor t = Tensor::empty_cpu(shape, dtype);
  gen.fill_normal(t, mean, stddev);
  return t;
}

Tensor rand_uniform(const Shape& shape, DType dtype, Generator& gen, double lo, double hi) {
  Tensor t = Tensor::empty_cpu(shape, dtype);
  gen.fill_uniform(t, lo, hi);
  return t;
}

}  // namespace mone

// Random fills of CUDA tensors (core/cuda_random.h, cuRAND's Philox): not the CPU's bits, the
// CPU's statistics. docs/SPECS.md says so.
#include <doctest/doctest.h>

#include <cmath>
#include <unordered_map>

#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {
struct Moments {
  double mean = 0, stddev = 0, min = INFINITY, max = -INFINITY;
};
Moments moments(const Tensor& t) {
  const auto v = to_cpu(t).to_vector<double>();
  Moments m;
  for (double x : v) {
    m.mean += x;
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
  }
  m.mean /= v.size();
  for (double x : v) m.stddev += (x - m.mean) * (x - m.mean);
  m.stddev = std::sqrt(m.stddev / (v.size() - 1));
  return m;
}
Tensor cuda_empty(int64_t n, DType dtype) { return value_or_die(Tensor::empty({n}, dtype, Device::cuda())); }
}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: a large normal draw on the GPU has the requested mean and standard deviation") {
  if (skip_without_gpu()) return;
  constexpr int64_t n = 1 << 22;  // 4M draws: the sample mean's standard error is std / 2048
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF64}) {
    INFO(dtype_name(dtype));
    Generator gen(42, 7);
    Tensor t = cuda_empty(n, dtype);
    gen.fill_normal(t, 0.5, 2.0);
    CHECK(gen.offset() == 7 + n);  // the same bookkeeping as the CPU
    const Moments m = moments(t);
    CHECK(std::abs(m.mean - 0.5) < 5 * 2.0 / 2048);
    CHECK(std::abs(m.stddev - 2.0) < 0.01);
    // Tails of a normal: 4M draws reach past 4.5 sigma on both sides, never past 7.
    CHECK(m.min < 0.5 - 4.5 * 2.0);
    CHECK(m.max > 0.5 + 4.5 * 2.0);
    CHECK(m.min > 0.5 - 7 * 2.0);
    CHECK(m.max < 0.5 + 7 * 2.0);
  }
  // The CPU's statistics are the same (and its bits differ, which the docs say).
  Generator cpu_gen(42, 7);
  const Moments c = moments(randn({n}, DType::kF32, cpu_gen, 0.5, 2.0));
  CHECK(std::abs(c.mean - 0.5) < 5 * 2.0 / 2048);
  CHECK(std::abs(c.stddev - 2.0) < 0.01);
}

TEST_CASE("cuda: a uniform draw on the GPU fills [lo, hi] evenly") {
  if (skip_without_gpu()) return;
  constexpr int64_t n = 1 << 21;
  Generator gen(3);
  Tensor t = cuda_empty(n, DType::kF32);
  gen.fill_uniform(t, -1.0, 3.0);
  const Moments m = moments(t);
  CHECK(m.min >= -1.0);
  CHECK(m.max <= 3.0);
  CHECK(std::abs(m.mean - 1.0) < 5 * (4.0 / std::sqrt(12.0)) / std::sqrt(double(n)));
  CHECK(std::abs(m.stddev - 4.0 / std::sqrt(12.0)) < 0.005);
}

TEST_CASE("cuda: the same (seed, offset) gives the same numbers; consecutive fills do not overlap") {
  if (skip_without_gpu()) return;
  constexpr int64_t n = 100001;  // odd: cuRAND makes pairs, mone trims
  Generator g1(9), g2(9);
  Tensor a = cuda_empty(n, DType::kF32), b = cuda_empty(n, DType::kF32), c = cuda_empty(n, DType::kF32);
  g1.fill_normal(a);
  g2.fill_normal(b);
  CHECK(bitwise_equal(a, b));
  g1.fill_normal(c);  // the next n numbers of the stream
  // Independent draws: the correlation of a and c is about N(0, 1/n).
  const auto x = to_cpu(a).to_vector<float>(), y = to_cpu(c).to_vector<float>();
  double dot = 0, xx = 0, yy = 0;
  for (int64_t i = 0; i < n; ++i) {
    dot += double(x[i]) * y[i];
    xx += double(x[i]) * x[i];
    yy += double(y[i]) * y[i];
  }
  CHECK(std::abs(dot / std::sqrt(xx * yy)) < 5.0 / std::sqrt(double(n)));
  // No overlap: were c a shifted part of a's stream, many of its values would sit in a at one
  // fixed index difference. Chance equalities of floats scatter over all differences.
  std::unordered_map<float, int64_t> index_in_a;
  for (int64_t i = 0; i < n; ++i) index_in_a[x[i]] = i;
  std::unordered_map<int64_t, int> by_shift;
  int most = 0;
  for (int64_t i = 0; i < n; ++i) {
    auto it = index_in_a.find(y[i]);
    if (it != index_in_a.end()) most = std::max(most, ++by_shift[it->second - i]);
  }
  CHECK(most < 10);
}

}  // TEST_SUITE

// The eight-lane float exponential (ops/cpu/vec_exp.h) against the correctly rounded e^x, over the
// whole float range and at its edges; and the float kernels built on it (activations, SwiGLU,
// cross-entropy) against libm's double results, with the same bits for any thread count.
// These run where the CPU has AVX2 + FMA (every machine mone's CI and benchmarks use); elsewhere
// the kernels keep the scalar loops the other tests of ops/ check, and these cases say so.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "ops/cpu/activation.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/cross_entropy.h"
#include "ops/cpu/vec_exp.h"

// Everything in one namespace of its own: the unity build compiles several test files together.
namespace mone::ops::cpu::vec_exp_test {

namespace {

__attribute__((target("avx2,fma"))) void exp_lanes(const float* x, int64_t n, float* y) {
  for (int64_t i = 0; i < n; i += 8) avx2::store8(y + i, avx2::exp8(avx2::load8(x + i, n - i)), n - i);
}

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

int64_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Units in the last place between two non-negative floats (their bit patterns are ordered).
int64_t ulps(float a, float b) { return std::llabs(bits_of(a) - bits_of(b)); }

// A deterministic mix of values in [-range, range].
std::vector<float> values(int64_t n, float range, uint32_t seed) {
  std::vector<float> v(n);
  uint64_t s = seed;
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = range * (static_cast<float>(s >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f);
  }
  return v;
}

// Runs f with omp's thread count set to `threads`, then puts it back.
template <typename F>
void with_threads(int threads, F f) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  f();
  omp_set_num_threads(before);
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("exp8 is within 1 ulp of the correctly rounded e^x over the float range") {
  if (!has_avx2_fma()) {
    MESSAGE("this CPU has no AVX2 + FMA: the kernels run their scalar loops, checked elsewhere");
    return;
  }
  // Every 61st float in [-104, 89], each sign's bit patterns in order, and a tail of 5 lanes.
  std::vector<float> x;
  for (uint32_t b = 0; from_bits(b) < 89.0f; b += 61) x.push_back(from_bits(b));
  for (uint32_t b = 0x80000000u; from_bits(b) > -104.0f; b += 61) x.push_back(from_bits(b));
  x.resize(x.size() / 8 * 8 + 5);
  std::vector<float> y(x.size());
  exp_lanes(x.data(), static_cast<int64_t>(x.size()), y.data());
  int64_t worst = 0;
  float worst_x = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float want = static_cast<float>(std::exp(static_cast<double>(x[i])));
    const int64_t u = ulps(y[i], want);
    if (u > worst) worst = u, worst_x = x[i];
  }
  INFO("worst at x = " << worst_x);
  CHECK(worst <= 1);
  CHECK(x.size() > 1000000);
}

TEST_CASE("exp8 at the edges: 0, overflow, underflow, subnormal results, infinities and NaN") {
  if (!has_avx2_fma()) {
    MESSAGE("this CPU has no AVX2 + FMA");
    return;
  }
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {0.0f, -0.0f, 88.72f, 88.73f, 89.0f, 1e30f, inf, -inf, -103.0f, -100.0f, -87.5f,
                                -104.5f, -1e30f, nan, 1e-30f, -1e-30f};
  std::vector<float> y(x.size());
  exp_lanes(x.data(), static_cast<int64_t>(x.size()), y.data());
  CHECK(y[0] == 1.0f);
  CHECK(y[1] == 1.0f);
  CHECK(std::isfinite(y[2]));
  CHECK(ulps(y[2], static_cast<float>(std::exp(static_cast<double>(x[2])))) <= 2);
  CHECK(y[3] == inf);  // e^88.73 > FLT_MAX
  CHECK(y[4] == inf);
  CHECK(y[5] == inf);
  CHECK(y[6] == inf);
  CHECK(y[7] == 0.0f);
  for (int i : {8, 9, 10}) {  // subnormal and smallest normal results
    INFO("x = " << x[i]);
    CHECK(ulps(y[i], static_cast<float>(std::exp(static_cast<double>(x[i])))) <= 2);
    CHECK(y[i] > 0.0f);
  }
  CHECK(y[11] == 0.0f);
  CHECK(y[12] == 0.0f);
  CHECK(std::isnan(y[13]));
  CHECK(y[14] == 1.0f);
  CHECK(y[15] == 1.0f);
}

TEST_CASE("float activations, SwiGLU and their backwards: near libm's double, the same bits on 1 and 2 threads") {
  // 70001 elements: past the parallel threshold, and not a multiple of 8.
  const int64_t n = 70001;
  const std::vector<float> x = values(n, 30.0f, 1), up = values(n, 2.0f, 2), go = values(n, 1.0f, 3);
  for (Activation act : {Activation::kSilu, Activation::kSigmoid}) {
    std::vector<float> y1(n), y2(n), gx1(n), gx2(n);
    with_threads(1, [&] {
      activation_forward(act, x.data(), n, y1.data());
      activation_backward(act, go.data(), act == Activation::kSigmoid ? y1.data() : x.data(), n, gx1.data());
    });
    with_threads(2, [&] {
      activation_forward(act, x.data(), n, y2.data());
      activation_backward(act, go.data(), act == Activation::kSigmoid ? y2.data() : x.data(), n, gx2.data());
    });
    CHECK(std::memcmp(y1.data(), y2.data(), n * sizeof(float)) == 0);
    CHECK(std::memcmp(gx1.data(), gx2.data(), n * sizeof(float)) == 0);
    double worst_y = 0, worst_g = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double xi = x[i], s = 1.0 / (1.0 + std::exp(-xi));
      const double want_y = act == Activation::kSilu ? xi * s : s;
      const double dsig = act == Activation::kSilu ? s * (1.0 + xi * (1.0 - s)) : double(y1[i]) * (1.0 - y1[i]);
      worst_y = std::max(worst_y, std::abs(y1[i] - want_y) / std::max(std::abs(want_y), 1e-30));
      worst_g = std::max(worst_g, std::abs(gx1[i] - go[i] * dsig));
    }
    CHECK(worst_y < 4e-7);  // a few float ulps, relative
    CHECK(worst_g < 1e-6);
  }
  std::vector<float> y1(n), y2(n), gg1(n), gg2(n), gu1(n), gu2(n);
  with_threads(1, [&] {
    swiglu_forward(x.data(), up.data(), n, y1.data());
    swiglu_backward(go.data(), x.data(), up.data(), n, gg1.data(), gu1.data());
  });
  with_threads(2, [&] {
    swiglu_forward(x.data(), up.data(), n, y2.data());
    swiglu_backward(go.data(), x.data(), up.data(), n, gg2.data(), gu2.data());
  });
  CHECK(std::memcmp(y1.data(), y2.data(), n * sizeof(float)) == 0);
  CHECK(std::memcmp(gg1.data(), gg2.data(), n * sizeof(float)) == 0);
  CHECK(std::memcmp(gu1.data(), gu2.data(), n * sizeof(float)) == 0);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double xi = x[i], s = 1.0 / (1.0 + std::exp(-xi));
    worst = std::max(worst, std::abs(y1[i] - xi * s * up[i]) / std::max(std::abs(xi * s * up[i]), 1e-30));
    worst = std::max(worst, std::abs(gu1[i] - go[i] * xi * s) / std::max(std::abs(go[i] * xi * s), 1e-30));
  }
  CHECK(worst < 6e-7);
}

TEST_CASE("float cross-entropy: near the double kernel on wide rows, NaN and +inf rows kept") {
  const int64_t N = 37, V = 1003;  // V not a multiple of 8
  std::vector<float> logits = values(N * V, 12.0f, 7);
  std::vector<double> logits_d(logits.begin(), logits.end());
  std::vector<int64_t> targets(N);
  for (int64_t r = 0; r < N; ++r) targets[r] = (r * 131) % V;
  targets[5] = -100;  // ignored
  logits[3 * V + 17] = std::numeric_limits<float>::quiet_NaN();
  logits[4 * V + 900] = std::numeric_limits<float>::infinity();
  logits_d[3 * V + 17] = logits[3 * V + 17];
  logits_d[4 * V + 900] = logits[4 * V + 900];
  std::vector<float> lse(N), grad(N * V);
  std::vector<double> lse_d(N), grad_d(N * V), loss(N), loss_d(N);
  cross_entropy_forward(logits.data(), targets.data(), N, V, -100, lse.data(), loss.data());
  cross_entropy_forward(logits_d.data(), targets.data(), N, V, -100, lse_d.data(), loss_d.data());
  cross_entropy_backward(logits.data(), targets.data(), lse.data(), N, V, -100, 0.25, grad.data());
  cross_entropy_backward(logits_d.data(), targets.data(), lse_d.data(), N, V, -100, 0.25, grad_d.data());
  CHECK(std::isnan(lse[3]));
  CHECK(lse[4] == std::numeric_limits<float>::infinity());
  CHECK(loss[5] == 0.0);
  for (int64_t v = 0; v < V; ++v) CHECK(grad[5 * V + v] == 0.0f);
  double worst_lse = 0, worst_grad = 0;
  for (int64_t r = 0; r < N; ++r) {
    if (r == 3 || r == 4) continue;
    worst_lse = std::max(worst_lse, std::abs(lse[r] - lse_d[r]));
    for (int64_t v = 0; v < V; ++v) worst_grad = std::max(worst_grad, std::abs(grad[r * V + v] - grad_d[r * V + v]));
  }
  CHECK(worst_lse < 4e-6);    // lse near 12 + log V: a few float ulps
  CHECK(worst_grad < 2e-7);   // (p − [v = t]) / 4 with p <= 1
  CHECK(worst_grad > 0.0);    // float and double did differ: the test compared two kernels
}

}  // TEST_SUITE

}  // namespace mone::ops::cpu::vec_exp_test

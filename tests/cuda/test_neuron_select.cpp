// The MoNE neuron top-K_N's block body (cuda/neuron_select.h), run on the CPU by an emulated thread
// block: every step runs for each of the 256 threads in turn, and the block meets between steps as
// it does at __syncthreads(). Its selections must be exactly those of the CPU op
// (ops::mone_ffn_forward's idx) on the same G, with ties, NaN, ±0 and ±inf, for D up to 5000 and
// K_N from 1 to D. Each run is repeated with the threads of every step in reverse order and must
// agree: a thread reading what another writes in the same step (a missing barrier) would differ.
// This checks the radix select, the tie rule and the output positions without a GPU; not the
// GPU's barriers, atomics or launch.
// Shape letters: T rows, D expert width, K_N kept.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "cuda/neuron_select.h"
#include "ops/mone_ffn.h"

using namespace mone;
namespace ns = mone::cuda::neuron_select;

namespace {

// A thread block on the CPU: step(f) runs f(tid) for every thread, in order or reversed.
struct CpuBlock {
  bool reverse;
  template <class F>
  void step(F&& f) {
    for (int i = 0; i < ns::kThreads; ++i) f(reverse ? ns::kThreads - 1 - i : i);
  }
};

// The emulated kernel over every row of g [T, D]: idx [T, K_N].
std::vector<int32_t> emulate(const std::vector<float>& g, int64_t rows, int64_t D, int64_t k_n, bool reverse) {
  std::vector<int32_t> idx(rows * k_n, -1);
  for (int64_t r = 0; r < rows; ++r) {
    ns::Shared sh;
    std::fill(std::begin(sh.hist), std::end(sh.hist), -7);  // garbage, as shared memory starts
    std::fill(std::begin(sh.above_part), std::end(sh.above_part), -7);
    std::fill(std::begin(sh.equal_part), std::end(sh.equal_part), -7);
    CpuBlock ex{reverse};
    ns::select_row(ex, sh, [&](int64_t j) { return g[r * D + j]; }, D, k_n, idx.data() + r * k_n);
  }
  return idx;
}

// The CPU op on one expert with x = I (T = d): a = W_gate x = W_gateᵀ's rows, so row t of a is
// column t of w_gate, which we fill with the values we want G to be ranked by (act = silu keeps
// the order of |G| different from |a|, and keeps NaN and ±inf: silu(-inf) is NaN, silu(inf) inf).
ops::MoneFfnForward cpu_forward(const std::vector<float>& a, int64_t rows, int64_t D, int64_t k_n) {
  Tensor x = Tensor::zeros({rows, rows});
  for (int64_t t = 0; t < rows; ++t) x.data<float>()[t * rows + t] = 1.f;
  Tensor w_gate = Tensor::zeros({D, rows});
  for (int64_t t = 0; t < rows; ++t) {
    for (int64_t j = 0; j < D; ++j) w_gate.data<float>()[j * rows + t] = a[t * D + j];
  }
  const Tensor w_up = Tensor::full({D, rows}, 1.0), w_down = Tensor::full({rows, D}, 1.0);
  return value_or_die(ops::mone_ffn_forward(x, Tensor(), w_gate, w_up, w_down,
                                            {k_n, ops::Activation::kSilu, ops::MoneStrategy::kGathered}));
}

// Pre-activations on a coarse grid (many equal |G|), with NaN, ±0 and ±inf mixed in when asked.
std::vector<float> draw(int64_t rows, int64_t D, uint64_t seed, bool specials) {
  Generator gen(seed);
  std::vector<float> v = randn({rows, D}, DType::kF32, gen).to_vector<float>();
  const float kinds[] = {std::numeric_limits<float>::quiet_NaN(), 0.0f, -0.0f,
                         std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = std::round(v[i] * 4.0f) / 4.0f;
    if (specials && i % 13 == 5) v[i] = kinds[(i / 13) % 5];
  }
  return v;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("neuron select: the emulated block's top-K_N equals the CPU op's, ties, NaN, ±0 and ±inf included") {
  uint64_t seed = 1;
  for (int64_t D : {1, 2, 7, 64, 255, 256, 257, 1000, 4096, 5000}) {
    for (int64_t k_n : {int64_t{1}, std::max<int64_t>(1, D / 8), std::max<int64_t>(1, D / 4), std::max<int64_t>(1, D / 2),
                        std::max<int64_t>(1, D - 1), D}) {
      for (bool specials : {false, true}) {
        const int64_t rows = D >= 4096 ? 3 : 5;
        CAPTURE(D);
        CAPTURE(k_n);
        CAPTURE(specials);
        const ops::MoneFfnForward f = cpu_forward(draw(rows, D, seed++, specials), rows, D, k_n);
        const std::vector<float> g = f.g.to_vector<float>();
        const std::vector<int32_t> want = f.idx.to_vector<int32_t>();
        CHECK(emulate(g, rows, D, k_n, false) == want);
        CHECK(emulate(g, rows, D, k_n, true) == want);
      }
    }
  }
}

TEST_CASE("neuron select: keys order |v| as the CPU's abs_order_key, NaN above inf, -0 as +0") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  CHECK(ns::abs_key(-0.0f) == ns::abs_key(0.0f));
  CHECK(ns::abs_key(-2.5f) == ns::abs_key(2.5f));
  CHECK(ns::abs_key(nan) == ns::abs_key(-nan));
  CHECK(ns::abs_key(nan) > ns::abs_key(inf));
  CHECK(ns::abs_key(inf) > ns::abs_key(3e38f));
  CHECK(ns::abs_key(1.0f) > ns::abs_key(0.99999994f));
  CHECK(ns::abs_key(1e-45f) > ns::abs_key(0.0f));
  CHECK((ns::abs_key(nan) >> 31) == 0u);
  // Every bit of the key belongs to exactly one digit pass.
  uint32_t covered = 0;
  for (int p = 0; p < ns::kPasses; ++p) {
    const uint32_t mask = ((1u << ns::digit_bits(p)) - 1u) << ns::digit_shift(p);
    CHECK((covered & mask) == 0u);
    covered |= mask;
    CHECK((1 << ns::digit_bits(p)) <= ns::kMaxBuckets);
    CHECK((1 << ns::digit_bits(p)) % ns::kThreads == 0);
  }
  CHECK(covered == 0x7fffffffu);
}

}  // TEST_SUITE("unit")

// The CUDA auxiliary losses (cuda/moe_losses.h) against the CPU: load balance, z-loss, the neuron
// balance loss over offsets (empty experts, one expert taking every row, R = 0) and without, in
// both forms, their backwards, and the neuron counts (exactly). f32 to 1e-5; bf16 to 1/128 (one
// rounding of the result, 2^-9, plus the bf16 inputs the CPU reads too); two runs, the same bits.
// Shape letters: N tokens, E experts, K experts per token, R rows grouped by expert, D expert
//   width, K_N neurons kept.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "ops/moe_dispatch.h"
#include "ops/moe_losses.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::cuda_test;
using ops::NeuronLossForm;

namespace {

Tensor scalar_like(double v, DType dtype) { return as(Tensor::full({}, v), dtype); }

// Router probabilities [N, E] (rows of a softmax) and the counts of a random top-K routing.
struct Routing {
  Tensor probs, logits, counts;
};
Routing routing(int64_t n, int64_t e, int64_t k, uint64_t seed) {
  Generator gen(seed);
  Routing r;
  r.logits = randn({n, e}, DType::kF32, gen, 0.0, 2.0);
  r.probs = Tensor::zeros({n, e});
  for (int64_t t = 0; t < n; ++t) {
    double m = -1e30, s = 0.0;
    for (int64_t j = 0; j < e; ++j) m = std::max(m, static_cast<double>(r.logits.data<float>()[t * e + j]));
    for (int64_t j = 0; j < e; ++j) s += std::exp(r.logits.data<float>()[t * e + j] - m);
    for (int64_t j = 0; j < e; ++j) {
      r.probs.data<float>()[t * e + j] = static_cast<float>(std::exp(r.logits.data<float>()[t * e + j] - m) / s);
    }
  }
  r.counts = value_or_die(ops::build_dispatch(moe_test::random_ids(gen, n, k, e), e)).counts;
  return r;
}

// MoNE selections over expert segments of the given sizes: g [R, D], idx [R, K_N] (distinct,
// ascending), offsets [E + 1] (undefined when `sizes` is empty: one expert over `rows` rows).
struct Selections {
  Tensor g, idx, offsets;
};
Selections selections(const std::vector<int64_t>& sizes, int64_t rows, int64_t D, int64_t k_n, uint64_t seed) {
  Generator gen(seed);
  Selections s;
  if (!sizes.empty()) {
    std::vector<int64_t> o{0};
    for (int64_t n : sizes) o.push_back(o.back() + n);
    rows = o.back();
    s.offsets = value_or_die(Tensor::from_vector(o, {static_cast<int64_t>(o.size())}));
  }
  s.g = randn({rows, D}, DType::kF32, gen);
  std::vector<int32_t> idx;
  for (int64_t t = 0; t < rows; ++t) {
    std::vector<int32_t> pool(D);
    std::iota(pool.begin(), pool.end(), 0);
    for (int64_t i = 0; i < k_n; ++i) std::swap(pool[i], pool[i + static_cast<int64_t>(gen.uniform() * (D - i))]);
    std::sort(pool.begin(), pool.begin() + k_n);
    idx.insert(idx.end(), pool.begin(), pool.begin() + k_n);
  }
  s.idx = value_or_die(Tensor::from_vector(idx, {rows, k_n}));
  return s;
}
Tensor maybe_gpu(const Tensor& t) { return t.defined() ? to_gpu(t) : Tensor(); }

}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: load_balance_loss and z_loss with their backwards match the CPU (f32, bf16), and repeat") {
  if (skip_without_gpu()) return;
  uint64_t seed = 3;
  for (const auto& nek : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {5, 3, 2}, {37, 8, 2}, {300, 16, 4}}) {
    const int64_t n = nek[0], e = nek[1], k = nek[2];  // not a structured binding: CAPTURE is a lambda (clang 14)
    CAPTURE(n);
    CAPTURE(e);
    const Routing r = routing(n, e, k, seed++);
    for (DType dtype : {DType::kF32, DType::kBF16}) {
      const bool f32 = dtype == DType::kF32;
      const double tol = f32 ? 1e-5 : 1.0 / 128;
      const Tensor probs = bf16_rounded(r.probs), logits = bf16_rounded(r.logits);
      const Tensor p16 = to_gpu(as(probs, dtype)), z16 = to_gpu(as(logits, dtype)), counts = to_gpu(r.counts);
      const Tensor lb = value_or_die(ops::load_balance_loss(p16, counts, k));
      check_close("load_balance_loss", lb, value_or_die(ops::load_balance_loss(probs, r.counts, k)), tol);
      const Tensor glb = value_or_die(ops::load_balance_loss_backward(to_gpu(scalar_like(0.75, dtype)), p16, counts, k));
      check_close("load_balance_loss_backward", glb,
                  value_or_die(ops::load_balance_loss_backward(scalar_like(0.75, DType::kF32), probs, r.counts, k)),
                  tol);
      const Tensor zl = value_or_die(ops::z_loss(z16));
      check_close("z_loss", zl, value_or_die(ops::z_loss(logits)), tol);
      const Tensor gz = value_or_die(ops::z_loss_backward(to_gpu(scalar_like(-1.25, dtype)), z16));
      check_close("z_loss_backward", gz, value_or_die(ops::z_loss_backward(scalar_like(-1.25, DType::kF32), logits)),
                  tol);
      CHECK(bitwise_equal(value_or_die(ops::load_balance_loss(p16, counts, k)), lb));
      CHECK(bitwise_equal(value_or_die(ops::z_loss(z16)), zl));
    }
  }
}

TEST_CASE("cuda: neuron_balance_loss, its backward and neuron_counts match the CPU over offsets and without") {
  if (skip_without_gpu()) return;
  struct Case {
    std::vector<int64_t> sizes;  // rows per expert; empty: no offsets
    int64_t rows, D, k_n;
  };
  const std::vector<Case> cases = {
      {{}, 1, 1, 1},                 // size 1
      {{}, 9, 16, 4},                // one expert, no offsets
      {{}, 0, 8, 2},                 // R = 0, no offsets
      {{0, 0, 0}, 0, 8, 2},          // R = 0 over offsets: no expert has rows
      {{3, 0, 5, 1}, 0, 24, 3},      // an empty expert
      {{0, 17, 0}, 0, 64, 16},       // every row to one expert
      {{40, 1, 0, 23, 7}, 0, 257, 64},
      {{5, 6}, 0, 4096, 512},
  };
  uint64_t seed = 20;
  for (const Case& c : cases) {
    CAPTURE(c.D);
    CAPTURE(c.k_n);
    CAPTURE(c.sizes.size());
    const Selections s = selections(c.sizes, c.rows, c.D, c.k_n, seed++);
    const int64_t rows = s.g.size(0);
    const Tensor idx = to_gpu(s.idx), offsets = maybe_gpu(s.offsets);
    const Tensor counts = value_or_die(ops::neuron_counts(idx, offsets, c.D));
    CHECK(to_cpu(counts).to_vector<int64_t>() ==
          value_or_die(ops::neuron_counts(s.idx, s.offsets, c.D)).to_vector<int64_t>());
    for (NeuronLossForm form : {NeuronLossForm::kNormalized, NeuronLossForm::kRaw}) {
      for (DType dtype : {DType::kF32, DType::kBF16}) {
        CAPTURE(static_cast<int>(form));
        CAPTURE(dtype_name(dtype));
        const double tol = dtype == DType::kF32 ? 1e-5 : 1.0 / 128;
        const Tensor g = bf16_rounded(s.g), g16 = to_gpu(as(g, dtype));
        const Tensor loss = value_or_die(ops::neuron_balance_loss(g16, idx, offsets, form));
        check_close("neuron_balance_loss", loss, value_or_die(ops::neuron_balance_loss(g, s.idx, s.offsets, form)), tol);
        const Tensor grad = value_or_die(
            ops::neuron_balance_loss_backward(to_gpu(scalar_like(1.5, dtype)), g16, idx, offsets, form));
        const Tensor want = value_or_die(
            ops::neuron_balance_loss_backward(scalar_like(1.5, DType::kF32), g, s.idx, s.offsets, form));
        check_close("neuron_balance_loss_backward", grad, want, tol);
        CHECK(grad.shape() == Shape{rows, c.D});
        CHECK(bitwise_equal(value_or_die(ops::neuron_balance_loss(g16, idx, offsets, form)), loss));
        CHECK(bitwise_equal(value_or_die(ops::neuron_balance_loss_backward(to_gpu(scalar_like(1.5, dtype)), g16, idx,
                                                                           offsets, form)),
                            grad));
      }
    }
  }
}

}  // TEST_SUITE("cuda")

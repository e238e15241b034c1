// The MoNE expert's neuron selectors (ops/op_types.h NeuronSelector, MONE.md "Neuron selectors"):
// each one against MONE.md written as loops (forward and every gradient, both strategies, both
// estimators), small cases worked by hand, the threshold's per-expert budget over stacked experts,
// and K_N = D where every selector is the dense expert. Their gradchecks (f64) are with the op's
// in test_mone_ffn.cpp.
#include <doctest/doctest.h>

#include <cmath>

#include "ops/mone_ffn.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::moe_test;
using ops::MoneStrategy;

namespace {

const NeuronSelector kSelectors[] = {NeuronSelector::kAbsGate, NeuronSelector::kSignedGate,
                                     NeuronSelector::kAbsGateTimesUp, NeuronSelector::kAbsGateThreshold};

ops::MoneFfnConfig config(int64_t k_n, Activation act, MoneStrategy strategy, TopkBackward est, NeuronSelector sel) {
  return {k_n, act, strategy, est, sel};
}

ops::MoneFfnForward forward(const ExpertInputs& in, const ops::MoneFfnConfig& c) {
  return value_or_die(ops::mone_ffn_forward(in.x, Tensor(), in.w_gate, in.w_up, in.w_down, c));
}

// d = 1, x = one value per row: a_j = x_t · w_gate[j].
ExpertInputs by_hand(const std::vector<double>& x, const std::vector<double>& w_gate, const std::vector<double>& w_up) {
  const int64_t T = static_cast<int64_t>(x.size()), D = static_cast<int64_t>(w_gate.size());
  return {value_or_die(Tensor::from_vector<double>(x, {T, 1})), value_or_die(Tensor::from_vector<double>(w_gate, {D, 1})),
          value_or_die(Tensor::from_vector<double>(w_up, {D, 1})), Tensor::full({1, D}, 1.0, DType::kF64)};
}

std::vector<int32_t> row(const Tensor& idx, int64_t t) {
  const int64_t k = idx.size(1);
  return {idx.data<int32_t>() + t * k, idx.data<int32_t>() + (t + 1) * k};
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("neuron selectors: forward and backward match MONE.md written as loops") {
  const int64_t T = 7, d = 6, D = 16;
  for (NeuronSelector sel : kSelectors) {
    for (Activation act : {Activation::kSilu, Activation::kSigmoid}) {
      for (int64_t k_n : {1, 4, 16}) {
        const ExpertInputs in = draw_expert_with_margin(41, T, d, D, k_n, act, DType::kF64, 1e-3, sel);
        Generator gen(5);
        const Tensor dy = randn({T, d}, DType::kF64, gen), dg = randn({T, D}, DType::kF64, gen);
        for (TopkBackward est : {TopkBackward::kHard, TopkBackward::kStraightThrough}) {
          const Reference ref = reference_mone(in, k_n, act, est, dy, dg, sel);
          for (MoneStrategy strategy : kStrategies) {
            CAPTURE(ops::neuron_selector_name(sel));
            CAPTURE(k_n);
            CAPTURE(static_cast<int>(act));
            CAPTURE(static_cast<int>(strategy));
            CAPTURE(static_cast<int>(est));
            const ops::MoneFfnConfig c = config(k_n, act, strategy, est, sel);
            const auto f = forward(in, c);
            CHECK(max_rel_diff(f.y, ref.y) < 1e-12);
            CHECK(max_rel_diff(f.g, ref.g) < 1e-12);
            for (int64_t t = 0; t < T; ++t) {
              CHECK(row(f.idx, t) == std::vector<int32_t>(ref.selected[t].begin(), ref.selected[t].end()));
            }
            const auto g = value_or_die(
                ops::mone_ffn_backward(dy, dg, in.x, Tensor(), in.w_gate, in.w_up, in.w_down, f, c));
            CHECK(max_rel_diff(g.grad_x, ref.grad_x) < 1e-12);
            CHECK(max_rel_diff(g.grad_w_gate, ref.grad_w_gate) < 1e-12);
            CHECK(max_rel_diff(g.grad_w_up, ref.grad_w_up) < 1e-12);
            CHECK(max_rel_diff(g.grad_w_down, ref.grad_w_down) < 1e-12);
          }
        }
      }
    }
  }
}

TEST_CASE("neuron selectors: worked by hand") {
  // One row, x = 1: a = (2, -1, 0.2, 0.1), G = silu(a) = (1.762, -0.269, 0.110, 0.052);
  // U = W_up x = (0.01, 1, 1, 1), so |G·U| = (0.018, 0.269, 0.110, 0.052).
  const ExpertInputs in = by_hand({1.0}, {2, -1, 0.2, 0.1}, {0.01, 1, 1, 1});
  const auto pick = [&](NeuronSelector sel) {
    return row(forward(in, config(2, Activation::kSilu, MoneStrategy::kGathered, TopkBackward::kHard, sel)).idx, 0);
  };
  CHECK(pick(NeuronSelector::kAbsGate) == std::vector<int32_t>{0, 1});         // the two largest |G|
  CHECK(pick(NeuronSelector::kSignedGate) == std::vector<int32_t>{0, 2});      // the two largest G
  CHECK(pick(NeuronSelector::kAbsGateTimesUp) == std::vector<int32_t>{1, 2});  // the two largest |G·U|
  CHECK(pick(NeuronSelector::kAbsGateThreshold) == std::vector<int32_t>{0, 1});  // one row: τ = its 2nd |G|

  // Signed ties: equal G go to the lower index, and -0 ties with +0.
  const ExpertInputs ties = by_hand({1.0}, {0.0, -0.0, 1.0, 1.0, -5.0}, {1, 1, 1, 1, 1});
  const auto signed_f = forward(ties, config(3, Activation::kSilu, MoneStrategy::kMaskedDense, TopkBackward::kHard,
                                             NeuronSelector::kSignedGate));
  CHECK(row(signed_f.idx, 0) == std::vector<int32_t>{0, 2, 3});

  // Threshold over two rows, K_N = 2: τ is the 4th largest of the 8 |G|. Row 0's |G| all reach it;
  // row 1 (x = 0.04, every |G| < 0.042) has none: its slots name neurons 0 and 1 with G = 0, and
  // its output and every gradient through it are 0.
  const ExpertInputs two = by_hand({1.0, 0.04}, {2, -1, 0.2, 0.1}, {0.5, 1, 1, 1});
  for (MoneStrategy strategy : kStrategies) {
    const ops::MoneFfnConfig c =
        config(2, Activation::kSilu, strategy, TopkBackward::kHard, NeuronSelector::kAbsGateThreshold);
    const auto f = forward(two, c);
    CHECK(row(f.idx, 0) == std::vector<int32_t>{0, 1});
    CHECK(row(f.idx, 1) == std::vector<int32_t>{0, 1});
    const double silu2 = 2.0 / (1.0 + std::exp(-2.0)), silu_m1 = -1.0 / (1.0 + std::exp(1.0));
    CHECK(f.y.data<double>()[0] == doctest::Approx(silu2 * 0.5 + silu_m1).epsilon(1e-14));
    CHECK(f.y.data<double>()[1] == 0.0);
    for (int64_t j = 0; j < 4; ++j) CHECK(f.g.data<double>()[4 + j] == 0.0);
    CHECK(f.g.data<double>()[3] == doctest::Approx(0.1 / (1.0 + std::exp(-0.1))).epsilon(1e-14));
    // Row 1 gets no gradient at all, even from a neuron-loss gradient on its (cut) G.
    const Tensor dy = Tensor::full({2, 1}, 1.0, DType::kF64), dg = Tensor::full({2, 4}, 1.0, DType::kF64);
    const auto g = value_or_die(ops::mone_ffn_backward(dy, dg, two.x, Tensor(), two.w_gate, two.w_up, two.w_down, f, c));
    CHECK(g.grad_x.data<double>()[1] == 0.0);
  }
}

TEST_CASE("neuron selectors: the threshold's budget is per expert, over that expert's rows") {
  // Stacked experts with rows (3, 0, 5): the op equals each expert run alone on its rows.
  const int64_t d = 5, D = 12, k_n = 3;
  Generator gen(17);
  const std::vector<int64_t> sizes{3, 0, 5};
  const Tensor x = randn({8, d}, DType::kF64, gen);
  const Tensor wg = randn({3, D, d}, DType::kF64, gen, 0.0, 1.0), wu = randn({3, D, d}, DType::kF64, gen, 0.0, 0.5);
  const Tensor wd = randn({3, d, D}, DType::kF64, gen, 0.0, 0.5);
  const Tensor offsets = value_or_die(Tensor::from_vector<int64_t>({0, 3, 3, 8}, {4}));
  for (MoneStrategy strategy : kStrategies) {
    const ops::MoneFfnConfig c =
        config(k_n, Activation::kSilu, strategy, TopkBackward::kHard, NeuronSelector::kAbsGateThreshold);
    const auto all = value_or_die(ops::mone_ffn_forward(x, offsets, wg, wu, wd, c));
    int64_t r0 = 0, kept = 0;
    for (int64_t e = 0; e < 3; ++e) {
      const int64_t r1 = r0 + sizes[e];
      if (r1 == r0) continue;
      auto slice = [&](const Tensor& w) {
        Tensor s = value_or_die(w.slice(0, e, e + 1)).contiguous();
        return value_or_die(s.reshape({w.size(1), w.size(2)}));
      };
      const ExpertInputs in{value_or_die(x.slice(0, r0, r1)).contiguous(), slice(wg), slice(wu), slice(wd)};
      const auto one = forward(in, c);
      CHECK(max_rel_diff(value_or_die(all.y.slice(0, r0, r1)).contiguous(), one.y) == 0.0);
      CHECK(max_rel_diff(value_or_die(all.g.slice(0, r0, r1)).contiguous(), one.g) == 0.0);
      // At least T_e·K_N entries survive the cut; here (no ties) exactly that many.
      int64_t nonzero = 0;
      for (double v : one.g.to_vector<double>()) nonzero += v != 0.0;
      CHECK(nonzero == (r1 - r0) * k_n);
      for (int64_t i = 0; i < (r1 - r0) * k_n; ++i) {
        kept += one.h.data<double>()[i] != 0.0;
      }
      r0 = r1;
    }
    CHECK(kept <= 8 * k_n);  // at most K_N per row
  }
}

TEST_CASE("neuron selectors: with K_N = D every selector is the dense SwiGLU expert") {
  const int64_t T = 5, d = 4, D = 10;
  Generator gen(23);
  const ExpertInputs in = draw_expert(gen, T, d, D, DType::kF64);
  const Tensor dy = randn({T, d}, DType::kF64, gen);
  const auto dense = forward(in, config(D, Activation::kSilu, MoneStrategy::kMaskedDense, TopkBackward::kHard,
                                        NeuronSelector::kAbsGate));
  for (NeuronSelector sel : kSelectors) {
    const ops::MoneFfnConfig c = config(D, Activation::kSilu, MoneStrategy::kGathered, TopkBackward::kHard, sel);
    const auto f = forward(in, c);
    CAPTURE(ops::neuron_selector_name(sel));
    CHECK(max_rel_diff(f.y, dense.y) == 0.0);
    CHECK(max_rel_diff(f.g, dense.g) == 0.0);
  }
}

TEST_CASE("neuron selectors: names") {
  CHECK(std::string(ops::neuron_selector_name(NeuronSelector::kAbsGate)) == "abs_gate");
  CHECK(std::string(ops::neuron_selector_name(NeuronSelector::kSignedGate)) == "signed_gate");
  CHECK(std::string(ops::neuron_selector_name(NeuronSelector::kAbsGateTimesUp)) == "abs_gate_times_up");
  CHECK(std::string(ops::neuron_selector_name(NeuronSelector::kAbsGateThreshold)) == "abs_gate_threshold");
}

}  // TEST_SUITE("unit")

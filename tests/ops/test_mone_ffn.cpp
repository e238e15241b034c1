// Tests of ops/mone_ffn.h and autograd::mone_ffn: the MoNE expert against a loop-by-loop
// reference of MONE.md's definition, the two strategies against each other, the two top-k
// estimators, K_N = D against a plain SwiGLU expert, gradchecks, and the error paths.
#include <doctest/doctest.h>

#include <numeric>

#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/moe.h"
#include "autograd/tape.h"
#include "ops/mone_ffn.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::moe_test;
using ops::Activation;
using ops::MoneStrategy;
using ops::TopkBackward;

namespace {

// One expert over all rows (no offsets).
ops::MoneFfnForward forward(const ExpertInputs& in, int64_t k_n, Activation act, MoneStrategy strategy) {
  return value_or_die(ops::mone_ffn_forward(in.x, Tensor(), in.w_gate, in.w_up, in.w_down, {k_n, act, strategy}));
}

ops::MoneFfnGrads backward(const ExpertInputs& in, const ops::MoneFfnForward& f, const Tensor& dy,
                           const Tensor& dg_extra, TopkBackward estimator, MoneStrategy strategy, Activation act) {
  const ops::MoneFfnConfig c{f.idx.size(1), act, strategy, estimator};
  return value_or_die(ops::mone_ffn_backward(dy, dg_extra, in.x, Tensor(), in.w_gate, in.w_up, in.w_down, f, c));
}

const Activation kActivations[] = {Activation::kSilu, Activation::kSigmoid};
const TopkBackward kEstimators[] = {TopkBackward::kHard, TopkBackward::kStraightThrough};

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("mone_ffn: forward and backward match MONE.md written as loops") {
  const int64_t T = 7, d = 6, D = 16;
  for (Activation act : kActivations) {
    for (int64_t k_n : {1, 4, 16}) {
      ExpertInputs in = draw_expert_with_margin(21, T, d, D, k_n, act, DType::kF64);
      Generator gen(3);
      const Tensor dy = randn({T, d}, DType::kF64, gen), dg = randn({T, D}, DType::kF64, gen);
      for (TopkBackward est : kEstimators) {
        const Reference ref = reference_mone(in, k_n, act, est, dy, dg);
        for (MoneStrategy strategy : kStrategies) {
          CAPTURE(k_n);
          CAPTURE(static_cast<int>(strategy));
          CAPTURE(static_cast<int>(est));
          const auto f = forward(in, k_n, act, strategy);
          CHECK(max_rel_diff(f.y, ref.y) < 1e-12);
          CHECK(max_rel_diff(f.g, ref.g) < 1e-12);
          for (int64_t t = 0; t < T; ++t) {
            for (int64_t k = 0; k < k_n; ++k) CHECK(f.idx.data<int32_t>()[t * k_n + k] == ref.selected[t][k]);
          }
          const auto g = backward(in, f, dy, dg, est, strategy, act);
          CHECK(max_rel_diff(g.grad_x, ref.grad_x) < 1e-12);
          CHECK(max_rel_diff(g.grad_w_gate, ref.grad_w_gate) < 1e-12);
          CHECK(max_rel_diff(g.grad_w_up, ref.grad_w_up) < 1e-12);
          CHECK(max_rel_diff(g.grad_w_down, ref.grad_w_down) < 1e-12);
        }
      }
    }
  }
}

TEST_CASE("mone_ffn: the neuron top-k ranks |G| and sends ties to the lower index") {
  // d = 1, x = 1: a_j = w_gate[j]. Neurons 0, 2, 3 share a = 2 (equal |G|); neuron 4 has a = -1,
  // whose silu (-0.269) is larger in |G| than neuron 1's silu(0.2) = 0.11.
  const Tensor x = value_or_die(Tensor::from_vector<double>({1.0}, {1, 1}));
  const Tensor w_gate = value_or_die(Tensor::from_vector<double>({2, 0.2, 2, 2, -1}, {5, 1}));
  const Tensor w_up = Tensor::full({5, 1}, 1.0, DType::kF64), w_down = Tensor::full({1, 5}, 1.0, DType::kF64);
  for (MoneStrategy strategy : kStrategies) {
    const ExpertInputs in{x, w_gate, w_up, w_down};
    auto f2 = forward(in, 2, Activation::kSilu, strategy);
    CHECK(f2.idx.to_vector<int32_t>() == std::vector<int32_t>{0, 2});
    auto f4 = forward(in, 4, Activation::kSilu, strategy);
    CHECK(f4.idx.to_vector<int32_t>() == std::vector<int32_t>{0, 2, 3, 4});
    // y = Σ_{j in I} G_j · 1 · 1, the selected G used as they are.
    const double g2 = 2.0 / (1.0 + std::exp(-2.0)), g4 = -1.0 / (1.0 + std::exp(1.0));
    CHECK(f4.y.item() == doctest::Approx(3 * g2 + g4).epsilon(1e-14));
  }
  // Many ties at once: small integer inputs give few distinct |G| per row.
  Generator gen(8);
  ExpertInputs in = draw_expert(gen, 6, 3, 64, DType::kF64);
  for (Tensor* t : {&in.x, &in.w_gate}) {
    for (int64_t i = 0; i < t->numel(); ++i) t->data<double>()[i] = std::round(2 * t->data<double>()[i]);
  }
  for (int64_t k_n : {1, 7, 32, 63}) {
    const Reference ref = reference_mone(in, k_n, Activation::kSilu, TopkBackward::kHard, Tensor::zeros({6, 3}, DType::kF64),
                                         Tensor());
    const auto f = forward(in, k_n, Activation::kSilu, MoneStrategy::kGathered);
    for (int64_t t = 0; t < 6; ++t) {
      const std::vector<int32_t> row(f.idx.data<int32_t>() + t * k_n, f.idx.data<int32_t>() + (t + 1) * k_n);
      CHECK(row == std::vector<int32_t>(ref.selected[t].begin(), ref.selected[t].end()));
    }
  }
}

TEST_CASE("mone_ffn: masked-dense and gathered agree, forward and every gradient, f32 and f64") {
  const int64_t T = 9, d = 12, D = 32;
  for (DType dtype : {DType::kF64, DType::kF32}) {
    const double tol = dtype == DType::kF64 ? 1e-12 : 2e-5;
    // At K_N = D both requests run masked-dense (nothing to gather): that case checks the rule.
    for (int64_t k_n : {D / 8, D / 4, D / 2, D}) {
      for (Activation act : kActivations) {
        Generator gen(100 + k_n);
        const ExpertInputs in = draw_expert(gen, T, d, D, dtype);
        const Tensor dy = randn({T, d}, dtype, gen), dg = randn({T, D}, dtype, gen);
        const auto fm = forward(in, k_n, act, MoneStrategy::kMaskedDense);
        const auto fg = forward(in, k_n, act, MoneStrategy::kGathered);
        CAPTURE(k_n);
        CHECK(fm.idx.to_vector<int32_t>() == fg.idx.to_vector<int32_t>());
        CHECK(max_rel_diff(fm.y, fg.y) < tol);
        CHECK(max_rel_diff(fm.u, fg.u) < tol);
        CHECK(max_rel_diff(fm.h, fg.h) < tol);
        for (TopkBackward est : kEstimators) {
          for (const Tensor& extra : {Tensor(), dg}) {
            const auto gm = backward(in, fm, dy, extra, est, MoneStrategy::kMaskedDense, act);
            const auto gg = backward(in, fg, dy, extra, est, MoneStrategy::kGathered, act);
            CHECK(max_rel_diff(gm.grad_x, gg.grad_x) < tol);
            CHECK(max_rel_diff(gm.grad_w_gate, gg.grad_w_gate) < tol);
            CHECK(max_rel_diff(gm.grad_w_up, gg.grad_w_up) < tol);
            CHECK(max_rel_diff(gm.grad_w_down, gg.grad_w_down) < tol);
          }
        }
      }
    }
  }
}

TEST_CASE("mone_ffn: K_N = D is the plain SwiGLU expert, and there HARD equals STRAIGHT_THROUGH") {
  const int64_t T = 5, d = 8, D = 12;
  Generator gen(7);
  const ExpertInputs in = draw_expert(gen, T, d, D, DType::kF64);
  const Tensor dy = randn({T, d}, DType::kF64, gen);
  for (Activation act : kActivations) {
    const Reference ref = reference_mone(in, D, act, TopkBackward::kHard, dy, Tensor());
    const auto f = forward(in, D, act, MoneStrategy::kMaskedDense);
    const auto g = backward(in, f, dy, Tensor(), TopkBackward::kHard, MoneStrategy::kMaskedDense, act);
    CHECK(max_rel_diff(f.y, ref.y) < 1e-12);
    CHECK(max_rel_diff(g.grad_x, ref.grad_x) < 1e-12);
    CHECK(max_rel_diff(g.grad_w_gate, ref.grad_w_gate) < 1e-12);
    CHECK(max_rel_diff(g.grad_w_up, ref.grad_w_up) < 1e-12);
    CHECK(max_rel_diff(g.grad_w_down, ref.grad_w_down) < 1e-12);
    for (MoneStrategy strategy : kStrategies) {
      const auto fm = forward(in, D, act, strategy);
      CHECK(max_rel_diff(fm.y, f.y) < 1e-12);
      const auto hard = backward(in, fm, dy, Tensor(), TopkBackward::kHard, strategy, act);
      const auto st = backward(in, fm, dy, Tensor(), TopkBackward::kStraightThrough, strategy, act);
      for (const auto& [a, b] : {std::pair{&hard.grad_x, &st.grad_x}, {&hard.grad_w_gate, &st.grad_w_gate},
                                 {&hard.grad_w_up, &st.grad_w_up}, {&hard.grad_w_down, &st.grad_w_down},
                                 {&hard.grad_x, &g.grad_x}}) {
        CHECK(max_rel_diff(*a, *b) < 1e-12);
      }
    }
  }
}

TEST_CASE("mone_ffn: straight-through reaches unselected W_up rows but never unselected W_down columns") {
  // K_N / D = 1/8 over 3 tokens: at most 6 of 48 neurons are selected by anyone.
  const int64_t T = 3, d = 8, D = 48, k_n = 6;
  Generator gen(9);
  const ExpertInputs in = draw_expert(gen, T, d, D, DType::kF64);
  const Tensor dy = randn({T, d}, DType::kF64, gen);
  for (MoneStrategy strategy : kStrategies) {
    const auto f = forward(in, k_n, Activation::kSilu, strategy);
    std::vector<bool> used(D, false);
    for (int32_t j : f.idx.to_vector<int32_t>()) used[j] = true;
    const auto hard = backward(in, f, dy, Tensor(), TopkBackward::kHard, strategy, Activation::kSilu);
    const auto st = backward(in, f, dy, Tensor(), TopkBackward::kStraightThrough, strategy, Activation::kSilu);
    int unused = 0;
    for (int64_t j = 0; j < D; ++j) {
      if (used[j]) continue;
      ++unused;
      double up_st = 0, up_hard = 0, down_st = 0, down_hard = 0;
      for (int64_t c = 0; c < d; ++c) {
        up_st += std::abs(st.grad_w_up.data<double>()[j * d + c]);
        up_hard += std::abs(hard.grad_w_up.data<double>()[j * d + c]);
        down_st += std::abs(st.grad_w_down.data<double>()[c * D + j]);
        down_hard += std::abs(hard.grad_w_down.data<double>()[c * D + j]);
      }
      CHECK(up_st > 1e-6);
      CHECK(up_hard == 0.0);
      CHECK(down_st == 0.0);
      CHECK(down_hard == 0.0);
    }
    CHECK(unused >= D - T * k_n);
    // W_down's gradient is the same under both estimators (h is the forward's sparse h).
    CHECK(max_rel_diff(st.grad_w_down, hard.grad_w_down) < 1e-14);
  }
}

TEST_CASE("mone_ffn: straight-through's gate, up and x gradients are the dense expert's at the same dy") {
  const int64_t T = 4, d = 6, D = 16;
  Generator gen(12);
  const ExpertInputs in = draw_expert(gen, T, d, D, DType::kF64);
  const Tensor dy = randn({T, d}, DType::kF64, gen);
  const auto dense_f = forward(in, D, Activation::kSilu, MoneStrategy::kMaskedDense);
  const auto dense = backward(in, dense_f, dy, Tensor(), TopkBackward::kHard, MoneStrategy::kMaskedDense, Activation::kSilu);
  for (MoneStrategy strategy : kStrategies) {
    const auto f = forward(in, D / 4, Activation::kSilu, strategy);
    const auto st = backward(in, f, dy, Tensor(), TopkBackward::kStraightThrough, strategy, Activation::kSilu);
    CHECK(max_rel_diff(st.grad_x, dense.grad_x) < 1e-12);
    CHECK(max_rel_diff(st.grad_w_gate, dense.grad_w_gate) < 1e-12);
    CHECK(max_rel_diff(st.grad_w_up, dense.grad_w_up) < 1e-12);
    CHECK(max_rel_diff(st.grad_w_down, dense.grad_w_down) > 1e-3);  // sparse h, not dense
  }
}

TEST_CASE("mone_ffn: an empty segment (T = 0) gives empty outputs and zero weight gradients") {
  Generator gen(4);
  const ExpertInputs in = draw_expert(gen, 0, 4, 8, DType::kF32);
  for (MoneStrategy strategy : kStrategies) {
    const auto f = forward(in, 2, Activation::kSilu, strategy);
    CHECK(f.y.shape() == Shape{0, 4});
    CHECK(f.idx.shape() == Shape{0, 2});
    const auto g = backward(in, f, Tensor::zeros({0, 4}), Tensor(), TopkBackward::kHard, strategy, Activation::kSilu);
    CHECK(g.grad_w_gate.shape() == Shape{8, 4});
    CHECK(min_abs(g.grad_w_gate) == 0.0);
    CHECK(max_rel_diff(g.grad_w_down, Tensor::zeros({4, 8})) == 0.0);
    CHECK(max_rel_diff(g.grad_w_up, Tensor::zeros({8, 4})) == 0.0);
  }
}

TEST_CASE("mone_ffn: bad arguments are Status errors naming the op") {
  Generator gen(5);
  const ExpertInputs in = draw_expert(gen, 3, 4, 8, DType::kF32);
  auto fwd = [&](const Tensor& x, const Tensor& wg, const Tensor& wu, const Tensor& wd, int64_t k_n) {
    return ops::mone_ffn_forward(x, Tensor(), wg, wu, wd, {k_n, Activation::kSilu, MoneStrategy::kGathered}).status();
  };
  Status s = fwd(in.x, in.w_gate, in.w_up, in.w_down, 0);
  CHECK(mentions(s, "mone_ffn_forward"));
  CHECK(mentions(s, "k_n = 0"));
  CHECK(mentions(fwd(in.x, in.w_gate, in.w_up, in.w_down, 9), "1 <= k_n <= D = 8"));
  s = fwd(in.x, in.w_gate, in.w_down, in.w_down, 2);  // w_up has w_down's shape
  CHECK(mentions(s, "mone_ffn_forward"));
  CHECK(mentions(s, "w_up is f32[4, 8]"));
  CHECK(mentions(fwd(in.x, in.w_gate, in.w_up, in.w_up, 2), "w_down is f32[8, 4]"));
  CHECK(mentions(fwd(value_or_die(in.x.to(DType::kF64)), in.w_gate, in.w_up, in.w_down, 2), "differ in dtype"));
  CHECK(mentions(fwd(in.w_down, in.w_gate, in.w_up, in.w_down, 2), "expected x [R, d], w_gate [E, D, d]"));  // x [4, 8]

  const auto f = forward(in, 2, Activation::kSilu, MoneStrategy::kGathered);
  auto bwd = [&](const Tensor& dy, const Tensor& dg, const ops::MoneFfnForward& fw) {
    return ops::mone_ffn_backward(dy, dg, in.x, Tensor(), in.w_gate, in.w_up, in.w_down, fw,
                                  {2, Activation::kSilu, MoneStrategy::kGathered, TopkBackward::kHard})
        .status();
  };
  s = bwd(Tensor::zeros({3, 5}), Tensor(), f);
  CHECK(mentions(s, "mone_ffn_backward"));
  CHECK(mentions(s, "grad_y"));
  CHECK(mentions(bwd(Tensor::zeros({3, 4}), Tensor::zeros({3, 7}), f), "grad_g_extra"));

  ops::MoneFfnForward bad = f;
  bad.idx = f.idx.clone();
  bad.idx.data<int32_t>()[3] = 8;  // out of [0, D)
  s = bwd(Tensor::zeros({3, 4}), Tensor(), bad);
  CHECK(mentions(s, "forward.idx"));
  CHECK(mentions(s, "= 8 is outside [0, D = 8)"));
  CHECK(bwd(Tensor::zeros({3, 4}), Tensor(), f).ok());
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

// HARD is the gradient of the forward (the selection, and the threshold selector's τ, held
// fixed), so finite differences check it for every selector; STRAIGHT_THROUGH is by design not a
// gradient (it is checked against the loops, here and in test_neuron_selectors.cpp).
TEST_CASE("gradcheck: mone_ffn (HARD) with every selector, through y, through g, and through the neuron loss") {
  using namespace mone::autograd;
  const int64_t T = 5, d = 4, D = 8;
  for (NeuronSelector sel : {NeuronSelector::kAbsGate, NeuronSelector::kSignedGate, NeuronSelector::kAbsGateTimesUp,
                             NeuronSelector::kAbsGateThreshold}) {
    for (Activation act : kActivations) {
      for (MoneStrategy strategy : kStrategies) {
        for (int64_t k_n : {2, 8}) {
          const ExpertInputs in = draw_expert_with_margin(31, T, d, D, k_n, act, DType::kF64, 1e-3, sel);
          std::vector<Variable> vars{param(in.x, "x"), param(in.w_gate, "w_gate"), param(in.w_up, "w_up"),
                                     param(in.w_down, "w_down")};
          for (int which = 0; which < 3; ++which) {
            auto fn = [&](const std::vector<Variable>& v) -> StatusOr<Variable> {
              MONE_ASSIGN_OR_RETURN(auto out, mone_ffn(v[0], Tensor(), v[1], v[2], v[3],
                                                       {k_n, act, strategy, TopkBackward::kHard, sel}));
              if (which == 0) return out.y;
              if (which == 1) return out.g;
              // A scalar of y (its z-loss) plus the neuron loss of g: both output gradients at once.
              MONE_ASSIGN_OR_RETURN(Variable zy, autograd::z_loss(out.y));
              MONE_ASSIGN_OR_RETURN(Variable nl,
                                    neuron_balance_loss(out.g, out.idx, Tensor(), ops::NeuronLossForm::kNormalized));
              return add(zy, nl);
            };
            CAPTURE(ops::neuron_selector_name(sel));
            CAPTURE(which);
            CAPTURE(k_n);
            const Status s = gradcheck(fn, vars);
            CHECK_MESSAGE(s.ok(), s.message());
          }
        }
      }
    }
  }
}

}  // TEST_SUITE("gradcheck")

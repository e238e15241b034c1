// Tests of ops/moe_losses.h and their autograd wrappers: each loss is 1.0 on a perfectly
// balanced case and larger when unbalanced, matches its formula, has the right gradient, and
// rejects bad input with a Status naming the op.
#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "autograd/moe.h"
#include "autograd/tape.h"
#include "ops/elementwise.h"
#include "ops/moe_losses.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::moe_test;
using ops::NeuronLossForm;

namespace {

Tensor mat(std::vector<double> v, int64_t rows, int64_t cols) { return value_or_die(Tensor::from_vector(v, {rows, cols})); }
Tensor i64(std::vector<int64_t> v) { return value_or_die(Tensor::from_vector(v, {static_cast<int64_t>(v.size())})); }
Tensor idx(std::vector<int32_t> v, int64_t rows, int64_t cols) { return value_or_die(Tensor::from_vector(v, {rows, cols})); }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("load_balance_loss: 1 at perfect balance, more when tokens and probability pile up") {
  // 4 tokens, 4 experts, K = 1, one token per expert, uniform probabilities.
  CHECK(value_or_die(ops::load_balance_loss(Tensor::full({4, 4}, 0.25, DType::kF64), i64({1, 1, 1, 1}), 1)).item() ==
        doctest::Approx(1.0).epsilon(1e-15));
  // Balanced counts make it Σ_e P_e = 1 whatever the probabilities (K = 2 here).
  const Tensor p = mat({0.7, 0.1, 0.1, 0.1, 0.2, 0.5, 0.2, 0.1}, 2, 4);
  CHECK(value_or_die(ops::load_balance_loss(p, i64({1, 1, 1, 1}), 2)).item() == doctest::Approx(1.0));
  // Everything on expert 0, which also holds most probability: E · f_0 · P_0 = 4 · 1 · 0.7.
  const Tensor skew = mat({0.7, 0.1, 0.1, 0.1, 0.7, 0.1, 0.1, 0.1}, 2, 4);
  const double l = value_or_die(ops::load_balance_loss(skew, i64({2, 0, 0, 0}), 1)).item();
  CHECK(l == doctest::Approx(2.8));
  CHECK(l > 1.0);
  // f32 in, f32 out.
  CHECK(value_or_die(ops::load_balance_loss(Tensor::full({2, 2}, 0.5), i64({1, 1}), 1)).dtype() == DType::kF32);
}

TEST_CASE("z_loss: mean of squared logsumexp") {
  // Uniform logits c with c + log E = 1 give logsumexp = 1 in every row, so L_z = 1.
  const double c = 1.0 - std::log(4.0);
  CHECK(value_or_die(ops::z_loss(Tensor::full({3, 4}, c, DType::kF64))).item() == doctest::Approx(1.0).epsilon(1e-14));
  // Two rows: lse([0, 0]) = log 2, lse([1000, 0]) = 1000 (no overflow).
  const double l = value_or_die(ops::z_loss(mat({0, 0, 1000, 0}, 2, 2))).item();
  CHECK(l == doctest::Approx((std::log(2.0) * std::log(2.0) + 1000.0 * 1000.0) / 2));
}

TEST_CASE("neuron_balance_loss: 1 at perfect balance, more when selections pile up; normalised ignores scale") {
  // 4 tokens, D = 4, K_N = 1, each neuron chosen once, equal |G|: F = Q = 1/4 -> 4 · 4/16 = 1.
  const Tensor flat = Tensor::full({4, 4}, -0.5, DType::kF64);
  const Tensor spread = idx({0, 1, 2, 3}, 4, 1);
  CHECK(value_or_die(ops::neuron_balance_loss(flat, spread, Tensor(), NeuronLossForm::kNormalized)).item() ==
        doctest::Approx(1.0).epsilon(1e-15));
  // Uniform selection makes it Σ_j Q_j = 1 whatever G is.
  Generator gen(1);
  const Tensor g = randn({4, 4}, DType::kF64, gen);
  CHECK(value_or_die(ops::neuron_balance_loss(g, spread, Tensor(), NeuronLossForm::kNormalized)).item() == doctest::Approx(1.0));
  // All tokens pick neuron 0, which holds the largest |G|: D · Q_0 > 1.
  const Tensor peaked = mat({4, 1, 1, 1, 5, 1, 0.5, 0.5, 3, 1, 1, 1, 4, 2, 1, 1}, 4, 4);
  const Tensor piled = idx({0, 0, 0, 0}, 4, 1);
  const double l = value_or_die(ops::neuron_balance_loss(peaked, piled, Tensor(), NeuronLossForm::kNormalized)).item();
  const double q0 = (4.0 / 7 + 5.0 / 7 + 3.0 / 6 + 4.0 / 8) / 4;
  CHECK(l == doctest::Approx(4 * q0));
  CHECK(l > 1.0);
  // Shrinking G leaves the normalised loss unchanged; the raw form shrinks with it.
  const Tensor small = value_or_die(ops::scale(peaked, 0.01));
  CHECK(value_or_die(ops::neuron_balance_loss(small, piled, Tensor(), NeuronLossForm::kNormalized)).item() ==
        doctest::Approx(l));
  const double raw = value_or_die(ops::neuron_balance_loss(peaked, piled, Tensor(), NeuronLossForm::kRaw)).item();
  CHECK(raw == doctest::Approx(4 * (4 + 5 + 3 + 4) / 4.0));  // D · F_0 · mean|G_0|
  CHECK(value_or_die(ops::neuron_balance_loss(small, piled, Tensor(), NeuronLossForm::kRaw)).item() ==
        doctest::Approx(0.01 * raw));
}

TEST_CASE("moe losses: bad arguments are Status errors naming the op") {
  const Tensor p = Tensor::full({2, 3}, 1.0 / 3, DType::kF64);
  Status s = ops::load_balance_loss(p, i64({1, 1, 1}), 1).status();
  CHECK(mentions(s, "load_balance_loss"));
  CHECK(mentions(s, "counts sum to 3, expected N·K = 2·1 = 2"));
  CHECK(mentions(ops::load_balance_loss(p, i64({1, 1}), 1).status(), "counts"));
  CHECK(mentions(ops::load_balance_loss(p, i64({3, -1, 0}), 1).status(), "negative"));
  CHECK(mentions(ops::load_balance_loss(p, i64({2, 2, 2}), 4).status(), "k = 4"));
  CHECK(mentions(ops::load_balance_loss(Tensor::zeros({0, 3}, DType::kF64), i64({0, 0, 0}), 1).status(),
                 "at least one row"));
  CHECK(mentions(ops::load_balance_loss_backward(Tensor::scalar<float>(1), p, i64({1, 1, 0}), 1).status(),
                 "grad_loss"));
  CHECK(mentions(ops::z_loss(Tensor::zeros({3})).status(), "z_loss"));
  s = ops::neuron_balance_loss(p, idx({0, 3}, 2, 1), Tensor(), NeuronLossForm::kNormalized).status();
  CHECK(mentions(s, "neuron_balance_loss"));
  CHECK(mentions(s, "idx[1, 0] = 3 is outside [0, D = 3)"));
  CHECK(mentions(ops::neuron_balance_loss(p, idx({0, 1, 2}, 3, 1), Tensor(), NeuronLossForm::kRaw).status(), "idx"));
  CHECK(mentions(ops::neuron_balance_loss(p, value_or_die(idx({0, 1}, 2, 1).to(DType::kI64)), Tensor(),
                                          NeuronLossForm::kRaw).status(),
                 "expected dtype i32"));
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: load_balance_loss, z_loss and both forms of neuron_balance_loss") {
  using namespace mone::autograd;
  Generator gen(5);
  Variable probs = param(rand_uniform({5, 4}, DType::kF64, gen, 0.05, 1.0), "probs");
  Status s = gradcheck([&](const std::vector<Variable>& v) { return load_balance_loss(v[0], i64({3, 0, 5, 2}), 2); },
                       {probs});
  CHECK_MESSAGE(s.ok(), s.message());
  Variable logits = param(randn({5, 4}, DType::kF64, gen, 0.0, 3.0), "logits");
  s = gradcheck([&](const std::vector<Variable>& v) { return z_loss(v[0]); }, {logits});
  CHECK_MESSAGE(s.ok(), s.message());
  // G away from 0 (the kink of |G|), with both signs.
  Tensor g = randn({6, 5}, DType::kF64, gen);
  for (int64_t i = 0; i < g.numel(); ++i) g.data<double>()[i] += g.data<double>()[i] > 0 ? 0.1 : -0.1;
  const Tensor sel = idx({0, 1, 1, 2, 4, 0, 3, 1, 0, 0, 2, 4}, 6, 2);
  for (NeuronLossForm form : {NeuronLossForm::kNormalized, NeuronLossForm::kRaw}) {
    s = gradcheck([&](const std::vector<Variable>& v) { return neuron_balance_loss(v[0], sel, Tensor(), form); },
                  {param(g, "g")});
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

}  // TEST_SUITE("gradcheck")

// The MoNE expert op over every expert of a layer at once (ops/mone_ffn.h with offsets): it must
// equal MONE.md's expert written as loops, run expert by expert on each segment, in the forward
// and in every gradient; for both strategies and both estimators; with empty experts, every row
// sent to one expert, and no rows at all. Then gradchecks in f64, and the grouped NG-LBL and
// neuron counts against their per-expert definitions.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstring>

#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/moe.h"
#include "autograd/tape.h"
#include "ops/moe_losses.h"
#include "ops/mone_ffn.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::moe_test;
using ops::MoneStrategy;

namespace {

// Stacked weights of E experts and rows grouped by `segment_sizes`.
struct Layer {
  std::vector<int64_t> sizes;
  Tensor x, offsets, w_gate, w_up, w_down;  // [R, d], [E + 1], [E, D, d], [E, D, d], [E, d, D]
  int64_t rows() const { return x.size(0); }
};

Layer draw_layer(uint64_t seed, const std::vector<int64_t>& sizes, int64_t d, int64_t D) {
  Generator gen(seed);
  const int64_t E = static_cast<int64_t>(sizes.size());
  std::vector<int64_t> offsets{0};
  for (int64_t s : sizes) offsets.push_back(offsets.back() + s);
  const double s = 1.0 / std::sqrt(static_cast<double>(d));
  return {sizes,
          randn({offsets.back(), d}, DType::kF64, gen),
          value_or_die(Tensor::from_vector<int64_t>(offsets, {E + 1})),
          randn({E, D, d}, DType::kF64, gen, 0.0, 3 * s),
          randn({E, D, d}, DType::kF64, gen, 0.0, s),
          randn({E, d, D}, DType::kF64, gen, 0.0, s)};
}

// Rows [r0, r1) of t, or expert e's [D, d] / [d, D] slice of a stacked weight.
Tensor rows(const Tensor& t, int64_t r0, int64_t r1) { return value_or_die(t.slice(0, r0, r1)).contiguous(); }
Tensor expert(const Tensor& w, int64_t e) {
  return value_or_die(rows(w, e, e + 1).reshape({w.size(1), w.size(2)}));
}

// Expert e's part of the op's inputs, for the loop reference.
ExpertInputs segment(const Layer& l, int64_t e, int64_t r0, int64_t r1) {
  return {rows(l.x, r0, r1), expert(l.w_gate, e), expert(l.w_up, e), expert(l.w_down, e)};
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("mone_ffn over E experts: every expert's segment equals MONE.md's loops, forward and every gradient") {
  const int64_t d = 6, D = 16;
  const std::vector<std::vector<int64_t>> layouts = {
      {3, 0, 5, 2},   // an expert with no rows
      {0, 0, 10, 0},  // every row to one expert
      {0, 0, 0, 0},   // no rows at all
      {1, 4, 2, 7},
  };
  uint64_t seed = 1;
  for (const auto& sizes : layouts) {
    const Layer l = draw_layer(seed++, sizes, d, D);
    const int64_t R = l.rows(), E = static_cast<int64_t>(sizes.size());
    Generator gen(seed * 7);
    const Tensor dy = randn({R, d}, DType::kF64, gen), dg = randn({R, D}, DType::kF64, gen);
    for (int64_t k_n : {int64_t{2}, int64_t{4}, D}) {
      for (TopkBackward est : {TopkBackward::kHard, TopkBackward::kStraightThrough}) {
        for (MoneStrategy strategy : {MoneStrategy::kMaskedDense, MoneStrategy::kGathered}) {
          CAPTURE(R);
          CAPTURE(k_n);
          CAPTURE(static_cast<int>(est));
          CAPTURE(static_cast<int>(strategy));
          const ops::MoneFfnConfig c{k_n, Activation::kSilu, strategy, est};
          const auto f = value_or_die(ops::mone_ffn_forward(l.x, l.offsets, l.w_gate, l.w_up, l.w_down, c));
          const auto g = value_or_die(
              ops::mone_ffn_backward(dy, dg, l.x, l.offsets, l.w_gate, l.w_up, l.w_down, f, c));
          REQUIRE(f.y.shape() == Shape{R, d});
          REQUIRE(g.grad_w_gate.shape() == l.w_gate.shape());
          REQUIRE(g.grad_w_down.shape() == l.w_down.shape());
          int64_t r0 = 0;
          for (int64_t e = 0; e < E; ++e) {
            const int64_t r1 = r0 + sizes[e];
            CAPTURE(e);
            const Reference ref = reference_mone(segment(l, e, r0, r1), k_n, Activation::kSilu, est,
                                                 rows(dy, r0, r1), rows(dg, r0, r1));
            CHECK(max_rel_diff(rows(f.y, r0, r1), ref.y) < 1e-12);
            CHECK(max_rel_diff(rows(f.g, r0, r1), ref.g) < 1e-12);
            const std::vector<int32_t> idx = rows(f.idx, r0, r1).to_vector<int32_t>();
            for (int64_t t = 0; t < r1 - r0; ++t) {
              CHECK(std::vector<int32_t>(idx.begin() + t * k_n, idx.begin() + (t + 1) * k_n) ==
                    std::vector<int32_t>(ref.selected[t].begin(), ref.selected[t].end()));
            }
            CHECK(max_rel_diff(rows(g.grad_x, r0, r1), ref.grad_x) < 1e-12);
            // An expert no row reached gets exact zeros (the reference's zero-initialised sums).
            CHECK(max_rel_diff(expert(g.grad_w_gate, e), ref.grad_w_gate) < 1e-12);
            CHECK(max_rel_diff(expert(g.grad_w_up, e), ref.grad_w_up) < 1e-12);
            CHECK(max_rel_diff(expert(g.grad_w_down, e), ref.grad_w_down) < 1e-12);
            r0 = r1;
          }
        }
      }
    }
  }
}

TEST_CASE("mone_ffn over E experts: without grad_y only the gate path gets gradient") {
  const Layer l = draw_layer(5, {2, 3, 0}, 4, 8);
  Generator gen(6);
  const Tensor dg = randn({5, 8}, DType::kF64, gen);
  const ops::MoneFfnConfig c{2, Activation::kSilu, MoneStrategy::kGathered, TopkBackward::kHard};
  const auto f = value_or_die(ops::mone_ffn_forward(l.x, l.offsets, l.w_gate, l.w_up, l.w_down, c));
  const auto none = value_or_die(ops::mone_ffn_backward(Tensor(), dg, l.x, l.offsets, l.w_gate, l.w_up, l.w_down, f, c));
  const auto zero = value_or_die(
      ops::mone_ffn_backward(Tensor::zeros({5, 4}, DType::kF64), dg, l.x, l.offsets, l.w_gate, l.w_up, l.w_down, f, c));
  CHECK(max_rel_diff(none.grad_x, zero.grad_x) < 1e-15);
  CHECK(max_rel_diff(none.grad_w_gate, zero.grad_w_gate) < 1e-15);
  CHECK(min_abs(none.grad_w_gate) == 0.0);  // expert 2 has no rows
  CHECK(max_rel_diff(none.grad_w_gate, Tensor::zeros(l.w_gate.shape(), DType::kF64)) > 1e-3);
  CHECK(max_rel_diff(none.grad_w_up, Tensor::zeros(l.w_up.shape(), DType::kF64)) == 0.0);
  CHECK(max_rel_diff(none.grad_w_down, Tensor::zeros(l.w_down.shape(), DType::kF64)) == 0.0);
}

TEST_CASE("mone_ffn over E experts: bad offsets and stacked shapes are Status errors naming the op") {
  const Layer l = draw_layer(3, {2, 1}, 4, 8);
  const ops::MoneFfnConfig c{2, Activation::kSilu, MoneStrategy::kMaskedDense, TopkBackward::kHard};
  auto fwd = [&](const Tensor& offsets, const Tensor& w_gate) {
    return ops::mone_ffn_forward(l.x, offsets, w_gate, l.w_up, l.w_down, c).status();
  };
  CHECK(mentions(fwd(value_or_die(Tensor::from_vector<int64_t>({0, 2, 4}, {3})), l.w_gate), "offsets must rise"));
  CHECK(mentions(fwd(value_or_die(Tensor::from_vector<int64_t>({0, 3}, {2})), l.w_gate), "offsets"));
  CHECK(mentions(fwd(l.offsets, expert(l.w_gate, 0)), "expected [E, D, d] (with offsets)"));
  CHECK(mentions(fwd(Tensor(), l.w_gate), "expected [D, d] (no offsets)"));
  CHECK(mentions(fwd(value_or_die(l.offsets.to(DType::kI32)), l.w_gate), "expected dtype i64"));
}

TEST_CASE("neuron_balance_loss over E experts is the mean of each non-empty expert's loss; neuron_counts count idx") {
  const Layer l = draw_layer(9, {3, 0, 4, 1}, 5, 12);
  const ops::MoneFfnConfig c{3, Activation::kSilu, MoneStrategy::kGathered, TopkBackward::kHard};
  const auto f = value_or_die(ops::mone_ffn_forward(l.x, l.offsets, l.w_gate, l.w_up, l.w_down, c));
  const std::vector<int32_t> idx = f.idx.to_vector<int32_t>();
  const Tensor counts = value_or_die(ops::neuron_counts(f.idx, l.offsets, 12));
  REQUIRE(counts.shape() == Shape{4, 12});
  const std::vector<int64_t> offsets{0, 3, 3, 7, 8};
  for (ops::NeuronLossForm form : {ops::NeuronLossForm::kNormalized, ops::NeuronLossForm::kRaw}) {
    double sum = 0.0;
    int experts = 0;
    for (int64_t e = 0; e < 4; ++e) {
      std::vector<int64_t> want(12, 0);
      for (int64_t i = offsets[e] * 3; i < offsets[e + 1] * 3; ++i) ++want[idx[i]];
      for (int64_t j = 0; j < 12; ++j) CHECK(counts.to_vector<int64_t>()[e * 12 + j] == want[j]);
      if (offsets[e + 1] == offsets[e]) continue;
      // MONE.md per expert: D · Σ_j F_j Q_j, written out.
      const int64_t T = offsets[e + 1] - offsets[e];
      double loss = 0.0;
      for (int64_t j = 0; j < 12; ++j) {
        double Q = 0.0;
        for (int64_t t = offsets[e]; t < offsets[e + 1]; ++t) {
          double total = 0.0;
          for (int64_t jj = 0; jj < 12; ++jj) total += std::abs(read_as_double(f.g, t * 12 + jj));
          const double m = std::abs(read_as_double(f.g, t * 12 + j));
          Q += (form == ops::NeuronLossForm::kRaw ? m : m / total) / static_cast<double>(T);
        }
        loss += 12.0 * (static_cast<double>(want[j]) / static_cast<double>(T * 3)) * Q;
      }
      sum += loss;
      ++experts;
    }
    const Tensor grouped = value_or_die(ops::neuron_balance_loss(f.g, f.idx, l.offsets, form));
    CHECK(grouped.item() == doctest::Approx(sum / experts).epsilon(1e-12));
  }
  // No rows at all: the loss is 0 and its gradient empty.
  const Tensor none = value_or_die(ops::neuron_balance_loss(Tensor::zeros({0, 12}, DType::kF64),
                                                            Tensor::zeros({0, 3}, DType::kI32),
                                                            value_or_die(Tensor::from_vector<int64_t>({0, 0}, {2})),
                                                            ops::NeuronLossForm::kNormalized));
  CHECK(none.item() == 0.0);
}

TEST_CASE("mone_ffn over E experts: the same bits run after run, and one thread agrees with several") {
  // Experts run one per thread (dynamically scheduled), and a big one with every thread inside:
  // the bits must not depend on which thread ran what. Across thread counts BLAS may split its
  // sums differently, so one thread and three agree to rounding.
  Generator gen(17);
  const int64_t d = 48, D = 64, E = 6;
  const std::vector<int64_t> offsets{0, 150, 150, 170, 230, 231, 260};  // one expert holds most rows
  const Tensor x = randn({260, d}, DType::kF32, gen), dy = randn({260, d}, DType::kF32, gen);
  const Tensor dg = randn({260, D}, DType::kF32, gen);
  const Tensor w_gate = randn({E, D, d}, DType::kF32, gen, 0.0, 0.3), w_up = randn({E, D, d}, DType::kF32, gen, 0.0, 0.15);
  const Tensor w_down = randn({E, d, D}, DType::kF32, gen, 0.0, 0.15);
  const Tensor off = value_or_die(Tensor::from_vector<int64_t>(offsets, {E + 1}));
  auto same = [](const Tensor& a, const Tensor& b) { return std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0; };
  const int threads = omp_get_max_threads();
  for (MoneStrategy strategy : {MoneStrategy::kMaskedDense, MoneStrategy::kGathered}) {
    const ops::MoneFfnConfig c{D / 4, Activation::kSilu, strategy, TopkBackward::kHard};
    auto run = [&](int n) {
      omp_set_num_threads(n);
      auto f = value_or_die(ops::mone_ffn_forward(x, off, w_gate, w_up, w_down, c));
      auto g = value_or_die(ops::mone_ffn_backward(dy, dg, x, off, w_gate, w_up, w_down, f, c));
      omp_set_num_threads(threads);
      return std::pair{f, g};
    };
    const auto [fa, ga] = run(3);
    const auto [fb, gb] = run(3);
    CHECK(same(fa.y, fb.y));
    CHECK(same(fa.idx, fb.idx));
    CHECK(same(ga.grad_x, gb.grad_x));
    CHECK(same(ga.grad_w_gate, gb.grad_w_gate));
    CHECK(same(ga.grad_w_up, gb.grad_w_up));
    CHECK(same(ga.grad_w_down, gb.grad_w_down));
    const auto [f1, g1] = run(1);
    CHECK(max_rel_diff(f1.y, fa.y) < 1e-5);
    CHECK(max_rel_diff(g1.grad_x, ga.grad_x) < 1e-5);
    CHECK(max_rel_diff(g1.grad_w_gate, ga.grad_w_gate) < 1e-5);
    CHECK(max_rel_diff(g1.grad_w_up, ga.grad_w_up) < 1e-5);
    CHECK(max_rel_diff(g1.grad_w_down, ga.grad_w_down) < 1e-5);
  }
}

TEST_CASE("pick_mone_strategy follows the measured crossover, and kAuto runs exactly the strategy it picks") {
  using ops::pick_mone_strategy;
  // K_N = D: nothing to gather, at any size.
  CHECK(pick_mone_strategy(1, 8, 64, 64) == MoneStrategy::kMaskedDense);
  // K_N/D = 1/8: gathered up to 16 rows per expert on average.
  CHECK(pick_mone_strategy(16 * 8, 8, 64, 8) == MoneStrategy::kGathered);
  CHECK(pick_mone_strategy(16 * 8 + 1, 8, 64, 8) == MoneStrategy::kMaskedDense);
  CHECK(pick_mone_strategy(2, 64, 1024, 128) == MoneStrategy::kGathered);  // batch-1 decode, K 2 of 64
  // K_N/D = 1/4: up to 4; above 1/4 never.
  CHECK(pick_mone_strategy(4 * 8, 8, 64, 16) == MoneStrategy::kGathered);
  CHECK(pick_mone_strategy(4 * 8 + 1, 8, 64, 16) == MoneStrategy::kMaskedDense);
  CHECK(pick_mone_strategy(1, 8, 64, 17) == MoneStrategy::kMaskedDense);
  CHECK(pick_mone_strategy(1, 8, 64, 32) == MoneStrategy::kMaskedDense);
  // A training batch: hundreds of rows per expert.
  CHECK(pick_mone_strategy(16384 * 2, 16, 576, 72) == MoneStrategy::kMaskedDense);
  // One expert over all rows (a shared expert).
  CHECK(pick_mone_strategy(16, 1, 64, 8) == MoneStrategy::kGathered);
  // With a backward to follow (training), masked-dense at any size.
  CHECK(pick_mone_strategy(2, 64, 1024, 128, true) == MoneStrategy::kMaskedDense);
  CHECK(pick_mone_strategy(16, 1, 64, 8, true) == MoneStrategy::kMaskedDense);

  // The op under kAuto runs the picked strategy (it says which) and gives its bits, forward and
  // backward, on a small-batch layer (gathered: 16 rows per expert) and a training-sized one
  // (masked-dense).
  auto same = [](const Tensor& a, const Tensor& b) { return std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0; };
  const int64_t d = 32, D = 64, k_n = D / 8;
  for (const std::vector<int64_t>& sizes : {std::vector<int64_t>{16, 0, 30, 18}, std::vector<int64_t>{90, 40, 0, 70}}) {
    const Layer l = draw_layer(29, sizes, d, D);
    Generator gen(31);
    const Tensor dy = randn({l.rows(), d}, DType::kF64, gen);
    const MoneStrategy picked = pick_mone_strategy(l.rows(), 4, D, k_n);
    const MoneStrategy other = picked == MoneStrategy::kGathered ? MoneStrategy::kMaskedDense : MoneStrategy::kGathered;
    CHECK(picked == (l.rows() <= 16 * 4 ? MoneStrategy::kGathered : MoneStrategy::kMaskedDense));
    auto run = [&](MoneStrategy strategy) {
      const ops::MoneFfnConfig c{k_n, Activation::kSilu, strategy, TopkBackward::kHard};
      auto f = value_or_die(ops::mone_ffn_forward(l.x, l.offsets, l.w_gate, l.w_up, l.w_down, c));
      auto g = value_or_die(ops::mone_ffn_backward(dy, Tensor(), l.x, l.offsets, l.w_gate, l.w_up, l.w_down, f, c));
      return std::pair{f, g};
    };
    const auto [fa, ga] = run(MoneStrategy::kAuto);
    const auto [fp, gp] = run(picked);
    const auto [fo, go] = run(other);
    CHECK(same(fa.y, fp.y));
    CHECK(same(ga.grad_x, gp.grad_x));
    CHECK(same(ga.grad_w_up, gp.grad_w_up));
    CHECK(same(ga.grad_w_down, gp.grad_w_down));
    CHECK(fa.strategy == picked);
    CHECK(fp.strategy == picked);
    CHECK(fo.strategy == other);
    CHECK(max_rel_diff(fa.y, fo.y) < 1e-12);
  }
}

TEST_CASE("autograd::mone_ffn under kAuto: gathered for a small forward alone, masked-dense when it records a backward") {
  const int64_t d = 32, D = 64, k_n = D / 8;
  const Layer l = draw_layer(29, {16, 0, 30, 18}, d, D);  // 16 rows per expert: the forward's gathered range
  const ops::MoneFfnConfig c{k_n, Activation::kSilu, MoneStrategy::kAuto, TopkBackward::kHard};
  autograd::current_tape().clear();
  const autograd::Variable x(l.x, true), wg(l.w_gate, true), wu(l.w_up, true), wd(l.w_down, true);
  {
    autograd::NoGradGuard no_grad;  // evaluation
    const auto out = value_or_die(autograd::mone_ffn(x, l.offsets, wg, wu, wd, c));
    CHECK(out.strategy == MoneStrategy::kGathered);
    CHECK(autograd::current_tape().size() == 0);
  }
  const auto out = value_or_die(autograd::mone_ffn(x, l.offsets, wg, wu, wd, c));  // training
  CHECK(out.strategy == MoneStrategy::kMaskedDense);
  CHECK(autograd::current_tape().size() == 1);
  // Its backward runs masked-dense too: the gradients are masked-dense's, bit for bit.
  Generator gen(31);
  const Tensor dy = randn({l.rows(), d}, DType::kF64, gen);
  REQUIRE(autograd::backward(out.y, dy).ok());
  ops::MoneFfnConfig masked = c;
  masked.strategy = MoneStrategy::kMaskedDense;
  const auto f = value_or_die(ops::mone_ffn_forward(l.x, l.offsets, l.w_gate, l.w_up, l.w_down, masked));
  const auto g = value_or_die(ops::mone_ffn_backward(dy, Tensor(), l.x, l.offsets, l.w_gate, l.w_up, l.w_down, f, masked));
  CHECK(std::memcmp(wd.grad().raw_data(), g.grad_w_down.raw_data(), g.grad_w_down.nbytes()) == 0);
  CHECK(std::memcmp(x.grad().raw_data(), g.grad_x.raw_data(), g.grad_x.nbytes()) == 0);
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: mone_ffn over E experts (HARD), with an empty expert, through y, g and the grouped NG-LBL") {
  using namespace mone::autograd;
  const int64_t d = 4, D = 8;
  for (MoneStrategy strategy : {MoneStrategy::kMaskedDense, MoneStrategy::kGathered}) {
    for (int64_t k_n : {int64_t{2}, D}) {
      // Redraw until no selection or |G| sits within reach of the finite differences.
      Layer l;
      for (uint64_t seed = 40;; ++seed) {
        l = draw_layer(seed, {2, 0, 3}, d, D);
        const auto f = value_or_die(ops::mone_ffn_forward(l.x, l.offsets, l.w_gate, l.w_up, l.w_down,
                                                          {k_n, Activation::kSilu, strategy}));
        if (topk_margin(f.g, k_n, true) > 1e-3 && min_abs(f.g) > 1e-3) break;
      }
      const ops::MoneFfnConfig c{k_n, Activation::kSilu, strategy, TopkBackward::kHard};
      std::vector<Variable> vars{param(l.x, "x"), param(l.w_gate, "w_gate"), param(l.w_up, "w_up"),
                                 param(l.w_down, "w_down")};
      auto fn = [&](const std::vector<Variable>& v) -> StatusOr<Variable> {
        MONE_ASSIGN_OR_RETURN(auto out, mone_ffn(v[0], l.offsets, v[1], v[2], v[3], c));
        MONE_ASSIGN_OR_RETURN(Variable zy, autograd::z_loss(out.y));
        if (k_n == D) return zy;
        MONE_ASSIGN_OR_RETURN(Variable nl, neuron_balance_loss(out.g, out.idx, l.offsets, ops::NeuronLossForm::kNormalized));
        return add(zy, nl);
      };
      CAPTURE(k_n);
      const Status s = gradcheck(fn, vars);
      CHECK_MESSAGE(s.ok(), s.message());
    }
  }
}

}  // TEST_SUITE("gradcheck")

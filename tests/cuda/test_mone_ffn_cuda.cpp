// The CUDA MoNE expert layer (ops/mone_ffn_cuda.cpp, cuda/mone_ffn.h) against the CPU op: every
// output of the forward and every gradient, over offsets (an empty expert, every row to one
// expert, R = 0) and for one expert without offsets (size 1 included), both strategies, both
// estimators, K_N/D in {1/8, 1/4, 1/2, 1}, D up to 4096, with and without grad_g_extra and without
// grad_y. Inputs are drawn so that every row's top-K_N is away from a tie, and the selections must
// then be the CPU's exactly. f32 to 1e-4 (GEMM-based); bf16 (stated below); two runs, the same bits.
// "unit": expert_of_row, the row -> expert map every kernel uses, against a scan of the offsets.
// Shape letters: R rows grouped by expert, d model width, E experts, D expert width, K_N kept.
#include <doctest/doctest.h>

#include <vector>

#include "cuda/mone_ffn.h"
#include "ops/mone_ffn.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::cuda_test;
using ops::Activation;
using ops::MoneStrategy;
using ops::TopkBackward;

namespace {

// Every expert's rows and weights, on the CPU in f32; offsets undefined for one expert.
struct Layer {
  Tensor x, offsets, w_gate, w_up, w_down;
};

// sizes: rows per expert (empty: one expert of `rows` rows, no offsets). Each expert's rows have
// their top-K_N |G| more than `margin` from a tie (tests/ops/moe_test_util.h's reference gate).
Layer draw_layer(uint64_t seed, const std::vector<int64_t>& sizes, int64_t rows, int64_t d, int64_t D, int64_t k_n,
                 Activation act, double margin) {
  const bool stacked = !sizes.empty();
  const std::vector<int64_t> per_expert = stacked ? sizes : std::vector<int64_t>{rows};
  const int64_t E = static_cast<int64_t>(per_expert.size());
  std::vector<int64_t> offsets{0};
  for (int64_t n : per_expert) offsets.push_back(offsets.back() + n);
  Layer L;
  L.x = Tensor::zeros({offsets.back(), d});
  L.w_gate = Tensor::zeros(stacked ? Shape{E, D, d} : Shape{D, d});
  L.w_up = Tensor::zeros(L.w_gate.shape());
  L.w_down = Tensor::zeros(stacked ? Shape{E, d, D} : Shape{d, D});
  if (stacked) L.offsets = value_or_die(Tensor::from_vector(offsets, {E + 1}));
  for (int64_t e = 0; e < E; ++e) {
    moe_test::ExpertInputs in;
    for (uint64_t attempt = 0;; ++attempt) {  // away from ties in the neuron top-K_N
      Generator gen(seed * 7919 + e * 131 + attempt);
      in = moe_test::draw_expert(gen, per_expert[e], d, D, DType::kF32);
      if (moe_test::topk_margin(moe_test::reference_gate(in, act), k_n, true) > margin) break;
    }
    const auto copy = [](const Tensor& from, const Tensor& to, int64_t at) {
      std::copy(from.data<float>(), from.data<float>() + from.numel(), to.data<float>() + at);
    };
    copy(in.x, L.x, offsets[e] * d);
    copy(in.w_gate, L.w_gate, e * D * d);
    copy(in.w_up, L.w_up, e * D * d);
    copy(in.w_down, L.w_down, e * d * D);
  }
  return L;
}

Tensor on_gpu(const Tensor& t, DType dtype) { return t.defined() ? to_gpu(t.dtype() == DType::kI64 ? t : as(t, dtype)) : Tensor(); }

// The CPU's and the GPU's forward and backward on one layer; checks every output.
struct Run {
  ops::MoneFfnForward f;
  ops::MoneFfnGrads g;
};
Run run(const Layer& L, const ops::MoneFfnConfig& c, const Tensor& dy, const Tensor& dg, DType dtype, bool gpu) {
  auto put = [&](const Tensor& t) { return gpu ? on_gpu(t, dtype) : t; };
  Run r;
  r.f = value_or_die(ops::mone_ffn_forward(put(L.x), put(L.offsets), put(L.w_gate), put(L.w_up), put(L.w_down), c));
  r.g = value_or_die(ops::mone_ffn_backward(put(dy), put(dg), put(L.x), put(L.offsets), put(L.w_gate), put(L.w_up),
                                            put(L.w_down), r.f, c));
  return r;
}

void compare(const Layer& L, const ops::MoneFfnConfig& c, const Tensor& dy, const Tensor& dg, DType dtype,
             double tol_forward, double tol_backward) {
  // bf16: the CPU runs in f32 on the bf16-rounded values.
  const auto rounded = [&](const Tensor& t) {
    return !t.defined() || dtype == DType::kF32 || t.dtype() == DType::kI64 ? t : bf16_rounded(t);
  };
  const Layer Lr{rounded(L.x), L.offsets, rounded(L.w_gate), rounded(L.w_up), rounded(L.w_down)};
  const Tensor dyr = rounded(dy), dgr = rounded(dg);
  const Run want = run(Lr, c, dyr, dgr, dtype, false), got = run(Lr, c, dyr, dgr, dtype, true);
  CHECK(to_cpu(got.f.idx).to_vector<int32_t>() == want.f.idx.to_vector<int32_t>());
  check_close("mone_ffn_forward", got.f.y, want.f.y, tol_forward);
  check_close("mone_ffn_forward", got.f.a, want.f.a, tol_forward);
  check_close("mone_ffn_forward", got.f.g, want.f.g, tol_forward);
  check_close("mone_ffn_forward", got.f.u, want.f.u, tol_forward);
  check_close("mone_ffn_forward", got.f.h, want.f.h, tol_forward);
  check_close("mone_ffn_backward", got.g.grad_x, want.g.grad_x, tol_backward);
  check_close("mone_ffn_backward", got.g.grad_w_gate, want.g.grad_w_gate, tol_backward);
  check_close("mone_ffn_backward", got.g.grad_w_up, want.g.grad_w_up, tol_backward);
  check_close("mone_ffn_backward", got.g.grad_w_down, want.g.grad_w_down, tol_backward);
  // Two runs, the same bits.
  const Run again = run(Lr, c, dyr, dgr, dtype, true);
  CHECK(bitwise_equal(again.f.y, got.f.y));
  CHECK(bitwise_equal(again.f.idx, got.f.idx));
  CHECK(bitwise_equal(again.g.grad_x, got.g.grad_x));
  CHECK(bitwise_equal(again.g.grad_w_gate, got.g.grad_w_gate));
  CHECK(bitwise_equal(again.g.grad_w_up, got.g.grad_w_up));
  CHECK(bitwise_equal(again.g.grad_w_down, got.g.grad_w_down));
}

struct MoneCase {
  std::vector<int64_t> sizes;  // rows per expert; empty: one expert without offsets
  int64_t rows, d, D;
};

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("expert_of_row: the last expert whose segment starts at or before the row, empty experts skipped") {
  for (const std::vector<int64_t>& o : std::vector<std::vector<int64_t>>{
           {0, 5}, {0, 0, 3, 3, 7, 7}, {0, 1, 2, 3}, {0, 0, 0, 4}, {0, 4, 4, 4}, {0, 2, 2, 9, 10, 10, 12}}) {
    const int64_t E = static_cast<int64_t>(o.size()) - 1;
    for (int64_t r = 0; r < o.back(); ++r) {
      int64_t want = -1;
      for (int64_t e = 0; e < E; ++e) {
        if (o[e] <= r && r < o[e + 1]) want = e;
      }
      CHECK(cuda::expert_of_row(o.data(), E, r) == want);
    }
  }
  CHECK(cuda::expert_of_row(nullptr, 1, 17) == 0);
}

}  // TEST_SUITE("unit")

TEST_SUITE("cuda") {

TEST_CASE("cuda: mone_ffn matches the CPU in f32: both strategies and estimators, K_N/D 1/8 to 1, and repeats") {
  if (skip_without_gpu()) return;
  const std::vector<MoneCase> cases = {
      {{5, 0, 9, 1}, 0, 13, 32},  // an empty expert, odd rows
      {{0, 11, 0}, 0, 7, 16},     // every row to one expert
      {{0, 0}, 0, 5, 8},          // R = 0
      {{}, 6, 9, 24},             // one expert, no offsets
      {{}, 1, 1, 8},              // size 1
      {{2, 1}, 0, 8, 4096},       // a wide expert: the select's three digit passes over 4096 neurons
  };
  uint64_t seed = 1;
  for (const MoneCase& cs : cases) {
    for (int64_t k_n : {cs.D / 8, cs.D / 4, cs.D / 2, cs.D}) {
      for (Activation act : {Activation::kSilu, Activation::kSigmoid}) {
        const Layer L = draw_layer(seed++, cs.sizes, cs.rows, cs.d, cs.D, k_n, act, cs.D > 1024 ? 1e-4 : 1e-3);
        const int64_t R = L.x.size(0);
        Generator gen(seed);
        const Tensor dy = randn({R, cs.d}, DType::kF32, gen), dg = randn({R, cs.D}, DType::kF32, gen);
        for (MoneStrategy strategy : {MoneStrategy::kMaskedDense, MoneStrategy::kGathered}) {
          for (TopkBackward est : {TopkBackward::kHard, TopkBackward::kStraightThrough}) {
            CAPTURE(cs.D);
            CAPTURE(cs.sizes.size());
            CAPTURE(k_n);
            CAPTURE(static_cast<int>(act));
            CAPTURE(static_cast<int>(strategy));
            CAPTURE(static_cast<int>(est));
            const ops::MoneFfnConfig c{k_n, act, strategy, est};
            compare(L, c, dy, dg, DType::kF32, 1e-4, 1e-4);
            compare(L, c, dy, Tensor(), DType::kF32, 1e-4, 1e-4);  // no neuron-loss gradient
            compare(L, c, Tensor(), dg, DType::kF32, 1e-4, 1e-4);  // only the neuron-loss gradient
          }
        }
      }
    }
  }
}

TEST_CASE("cuda: mone_ffn in bf16 (f32 accumulation) against the CPU in f32 on the same bf16 values") {
  if (skip_without_gpu()) return;
  // bf16 stores a, G, U, h, y (and dH, da, dU in the backward), each rounded once to 2^-9
  // relative after f32 accumulation: forward outputs to 1/32 normwise, gradients (two or three
  // such roundings in a chain, then a GEMM) to 1/16. The top-K_N margin is 0.15 in |G|: the GPU's
  // G is off by at most two half ulps of bf16 (a, then G: 0.06 at |G| ~ 8), and rounding the inputs
  // moves the CPU's G by ~0.02, so the selections are the CPU's exactly.
  uint64_t seed = 500;
  for (const MoneCase& cs : {MoneCase{{3, 0, 4}, 0, 9, 16}, MoneCase{{}, 5, 12, 16}}) {
    for (int64_t k_n : {cs.D / 8, cs.D / 4, cs.D / 2, cs.D}) {
      const Layer L = draw_layer(seed++, cs.sizes, cs.rows, cs.d, cs.D, k_n, Activation::kSilu, 0.15);
      const int64_t R = L.x.size(0);
      Generator gen(seed);
      const Tensor dy = randn({R, cs.d}, DType::kF32, gen), dg = randn({R, cs.D}, DType::kF32, gen);
      for (MoneStrategy strategy : {MoneStrategy::kMaskedDense, MoneStrategy::kGathered}) {
        for (TopkBackward est : {TopkBackward::kHard, TopkBackward::kStraightThrough}) {
          CAPTURE(k_n);
          CAPTURE(static_cast<int>(strategy));
          CAPTURE(static_cast<int>(est));
          compare(L, {k_n, Activation::kSilu, strategy, est}, dy, dg, DType::kBF16, 1.0 / 32, 1.0 / 16);
        }
      }
    }
  }
}

TEST_CASE("cuda: mone_ffn reads bad offsets back and names them") {
  if (skip_without_gpu()) return;
  const Layer L = draw_layer(3, {2, 2}, 0, 4, 8, 2, Activation::kSilu, 0.0);
  const Tensor bad = to_gpu(value_or_die(Tensor::from_vector<int64_t>({0, 3, 2}, {3})));
  const Status s = ops::mone_ffn_forward(to_gpu(L.x), bad, to_gpu(L.w_gate), to_gpu(L.w_up), to_gpu(L.w_down),
                                         {2, Activation::kSilu, MoneStrategy::kGathered})
                       .status();
  CHECK(moe_test::mentions(s, "mone_ffn_forward: offsets must rise from 0 to the input's 4 rows"));
}

}  // TEST_SUITE("cuda")

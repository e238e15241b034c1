// The CUDA router (cuda/router.h) against the CPU. "unit": the slot rule the kernel uses (expert j
// goes to slot router_rank(j), over the order keys of the stored probabilities) gives the CPU's
// top-K exactly, ties included. "cuda": logits, probs and weights to 1e-4 (a GEMM feeds them),
// expert ids exactly on inputs drawn away from ties, the backward through every combination of
// upstream gradients to 1e-4, bf16 to stated tolerances, and two runs with the same bits.
// Shape letters: N tokens, d model width, E experts, K experts per token.
#include <doctest/doctest.h>

#include <vector>

#include "cuda/router.h"
#include "ops/router.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::cuda_test;
using moe_test::draw_router;

namespace {

struct RouterCase {
  int64_t n, d, e, k;
};
// Size 1, N = 0, odd sizes, K = 1 and K = E.
const RouterCase kCases[] = {{1, 1, 1, 1}, {0, 4, 3, 2}, {7, 5, 3, 2}, {33, 17, 8, 2}, {65, 12, 16, 4}, {9, 6, 5, 5}};

// The gradients the router's backward takes, each present or not (bit i of `mask`).
struct Upstream {
  Tensor grad_weights, grad_probs, grad_logits_extra;
};
Upstream upstream(const RouterCase& c, int mask, uint64_t seed) {
  Upstream u;
  if (mask & 1) u.grad_weights = random({c.n, c.k}, seed);
  if (mask & 2) u.grad_probs = random({c.n, c.e}, seed + 1);
  if (mask & 4) u.grad_logits_extra = random({c.n, c.e}, seed + 2);
  return u;
}
Tensor maybe(const Tensor& t, DType dtype) { return t.defined() ? to_gpu(as(t, dtype)) : Tensor(); }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("router rank: slot = the number of experts before j in the top-k order gives the CPU's top-K with ties") {
  // Logits on a coarse grid: many probabilities tie exactly.
  for (const RouterCase& c : {RouterCase{6, 3, 7, 3}, RouterCase{5, 2, 16, 4}, RouterCase{4, 1, 5, 5}, RouterCase{3, 1, 1, 1}}) {
    Generator gen(c.e);
    Tensor x = randn({c.n, c.d}, DType::kF32, gen), w = randn({c.e, c.d}, DType::kF32, gen);
    for (Tensor* t : {&x, &w}) {
      for (int64_t i = 0; i < t->numel(); ++i) t->data<float>()[i] = std::round(t->data<float>()[i]);
    }
    const auto f = value_or_die(ops::router_forward(x, w, c.k, false));
    const std::vector<float> p = f.probs.to_vector<float>();
    std::vector<int32_t> ids(c.n * c.k, -1);
    for (int64_t t = 0; t < c.n; ++t) {
      for (int64_t j = 0; j < c.e; ++j) {
        const int64_t slot =
            cuda::router_rank([&](int64_t i) { return cuda::topk_order_key(p[t * c.e + i]); }, c.e, j);
        if (slot < c.k) ids[t * c.k + slot] = static_cast<int32_t>(j);
      }
    }
    CHECK(ids == f.expert_ids.to_vector<int32_t>());
  }
}

}  // TEST_SUITE("unit")

TEST_SUITE("cuda") {

TEST_CASE("cuda: router forward and backward match the CPU in f32, and repeat bit for bit") {
  if (skip_without_gpu()) return;
  uint64_t seed = 10;
  for (const RouterCase& c : kCases) {
    for (bool norm : {false, true}) {
      CAPTURE(c.n);
      CAPTURE(c.e);
      CAPTURE(c.k);
      CAPTURE(norm);
      const auto [x, w] = draw_router(seed++, c.n, c.d, c.e, c.k, DType::kF32);
      const auto want = value_or_die(ops::router_forward(x, w, c.k, norm));
      const auto got = value_or_die(ops::router_forward(to_gpu(x), to_gpu(w), c.k, norm));
      check_close("router_forward", got.logits, want.logits, 1e-4);
      check_close("router_forward", got.probs, want.probs, 1e-4);
      check_close("router_forward", got.weights, want.weights, 1e-4);
      CHECK(to_cpu(got.expert_ids).to_vector<int32_t>() == want.expert_ids.to_vector<int32_t>());
      CHECK(got.norm_topk_prob == norm);
      for (int mask = 0; mask < 8; ++mask) {
        CAPTURE(mask);
        const Upstream u = upstream(c, mask, seed);
        const auto gw = value_or_die(ops::router_backward(u.grad_weights, u.grad_probs, u.grad_logits_extra, x, w, want));
        const auto gg = value_or_die(ops::router_backward(maybe(u.grad_weights, DType::kF32),
                                                          maybe(u.grad_probs, DType::kF32),
                                                          maybe(u.grad_logits_extra, DType::kF32), to_gpu(x),
                                                          to_gpu(w), got));
        check_close("router_backward", gg.grad_x, gw.grad_x, 1e-4);
        check_close("router_backward", gg.grad_w_router, gw.grad_w_router, 1e-4);
        if (mask == 7) {
          const auto again = value_or_die(ops::router_backward(maybe(u.grad_weights, DType::kF32),
                                                               maybe(u.grad_probs, DType::kF32),
                                                               maybe(u.grad_logits_extra, DType::kF32), to_gpu(x),
                                                               to_gpu(w), got));
          CHECK(bitwise_equal(again.grad_x, gg.grad_x));
          CHECK(bitwise_equal(again.grad_w_router, gg.grad_w_router));
        }
      }
      const auto again = value_or_die(ops::router_forward(to_gpu(x), to_gpu(w), c.k, norm));
      CHECK(bitwise_equal(again.probs, got.probs));
      CHECK(bitwise_equal(again.weights, got.weights));
      CHECK(bitwise_equal(again.expert_ids, got.expert_ids));
    }
  }
}

TEST_CASE("cuda: the router in bf16") {
  if (skip_without_gpu()) return;
  // bf16 logits are off by up to half an ulp (2^-9 relative: 0.03 at |z| ~ 16), which moves p by as
  // much relative to itself, and bf16 p ties values within 2^-8 of each other: inputs are drawn with
  // a top-K margin of 0.15 in the logits (15% in p) so the selection cannot flip.
  // Tolerances (normwise, against the CPU in f32 on the same bf16 values): logits 1/128; probs and
  // weights 1/32 (an error of 0.03 in z is 3% in p); gradients 1/16 (they are made from those p).
  uint64_t seed = 90;
  for (const RouterCase& c : {RouterCase{7, 5, 3, 2}, RouterCase{17, 9, 8, 2}, RouterCase{17, 12, 16, 4}}) {
    for (bool norm : {false, true}) {
      CAPTURE(c.e);
      CAPTURE(norm);
      auto [x, w] = draw_router(seed++, c.n, c.d, c.e, c.k, DType::kF32, 0.15, true);
      x = bf16_rounded(x);
      w = bf16_rounded(w);
      const auto want = value_or_die(ops::router_forward(x, w, c.k, norm));
      REQUIRE(moe_test::topk_margin(want.logits, c.k, false) > 0.07);  // still, after rounding the inputs
      const auto got =
          value_or_die(ops::router_forward(to_gpu(as(x, DType::kBF16)), to_gpu(as(w, DType::kBF16)), c.k, norm));
      CHECK(got.probs.dtype() == DType::kBF16);
      check_close("router_forward", got.logits, want.logits, 1.0 / 128);
      check_close("router_forward", got.probs, want.probs, 1.0 / 32);
      check_close("router_forward", got.weights, want.weights, 1.0 / 32);
      CHECK(to_cpu(got.expert_ids).to_vector<int32_t>() == want.expert_ids.to_vector<int32_t>());
      const Upstream u = upstream(c, 7, seed);
      const auto gw = value_or_die(ops::router_backward(bf16_rounded(u.grad_weights), bf16_rounded(u.grad_probs),
                                                        bf16_rounded(u.grad_logits_extra), x, w, want));
      const auto gg = value_or_die(ops::router_backward(
          maybe(u.grad_weights, DType::kBF16), maybe(u.grad_probs, DType::kBF16),
          maybe(u.grad_logits_extra, DType::kBF16), to_gpu(as(x, DType::kBF16)), to_gpu(as(w, DType::kBF16)), got));
      check_close("router_backward", gg.grad_x, gw.grad_x, 1.0 / 16);
      check_close("router_backward", gg.grad_w_router, gw.grad_w_router, 1.0 / 16);
    }
  }
}

}  // TEST_SUITE("cuda")

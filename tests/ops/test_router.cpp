// Tests of ops/router.h and autograd::router: logits, softmax, top-K with ties to the lower
// index, (re)normalised weights, the backward through all three outputs, and the error paths.
#include <doctest/doctest.h>

#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/moe.h"
#include "autograd/tape.h"
#include "ops/moe_dispatch.h"
#include "ops/router.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::moe_test;

TEST_SUITE("unit") {

TEST_CASE("router: logits, softmax, top-K and weights match the definition written as loops") {
  const int64_t n = 6, d = 5, e = 7, k = 3;
  for (DType dtype : {DType::kF64, DType::kF32}) {
    const double tol = dtype == DType::kF64 ? 1e-13 : 1e-6;
    auto [x, w] = draw_router(1, n, d, e, k, dtype);
    for (bool norm : {false, true}) {
      const auto f = value_or_die(ops::router_forward(x, w, k, norm));
      CHECK(f.expert_ids.dtype() == DType::kI32);
      CHECK(f.norm_topk_prob == norm);
      for (int64_t t = 0; t < n; ++t) {
        std::vector<double> z(e), p(e);
        double zmax = -1e300, sum = 0;
        for (int64_t j = 0; j < e; ++j) {
          for (int64_t c = 0; c < d; ++c) z[j] += read_as_double(x, t * d + c) * read_as_double(w, j * d + c);
          zmax = std::max(zmax, z[j]);
        }
        for (int64_t j = 0; j < e; ++j) sum += std::exp(z[j] - zmax);
        for (int64_t j = 0; j < e; ++j) p[j] = std::exp(z[j] - zmax) / sum;
        std::vector<int> order(e);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
        double sel = 0;
        for (int64_t s = 0; s < k; ++s) sel += p[order[s]];
        for (int64_t j = 0; j < e; ++j) {
          CHECK(std::abs(read_as_double(f.logits, t * e + j) - z[j]) < tol * (1 + std::abs(z[j])));
          CHECK(std::abs(read_as_double(f.probs, t * e + j) - p[j]) < tol);
        }
        for (int64_t s = 0; s < k; ++s) {
          CHECK(f.expert_ids.data<int32_t>()[t * k + s] == order[s]);
          const double want = norm ? p[order[s]] / sel : p[order[s]];
          CHECK(std::abs(read_as_double(f.weights, t * k + s) - want) < tol);
        }
      }
    }
  }
}

TEST_CASE("router: top-K ties go to the lower index") {
  // x = [1]: logits = w_router. Experts 1 and 3 tie for first, 0 and 2 for third.
  const Tensor x = value_or_die(Tensor::from_vector<double>({1.0}, {1, 1}));
  const Tensor w = value_or_die(Tensor::from_vector<double>({0.5, 2.0, 0.5, 2.0}, {4, 1}));
  auto ids = [&](int64_t k) { return value_or_die(ops::router_forward(x, w, k, false)).expert_ids.to_vector<int32_t>(); };
  CHECK(ids(1) == std::vector<int32_t>{1});
  CHECK(ids(2) == std::vector<int32_t>{1, 3});
  CHECK(ids(3) == std::vector<int32_t>{1, 3, 0});
  CHECK(ids(4) == std::vector<int32_t>{1, 3, 0, 2});
  // All equal: 0, 1, ..., K-1.
  const Tensor flat = Tensor::full({5, 1}, 0.3, DType::kF64);
  CHECK(value_or_die(ops::router_forward(x, flat, 3, true)).expert_ids.to_vector<int32_t>() ==
        std::vector<int32_t>{0, 1, 2});
}

TEST_CASE("router: softmax stays finite for huge logits, and renormalised weights sum to 1") {
  const Tensor x = value_or_die(Tensor::from_vector<float>({100.0f, -50.0f}, {1, 2}));
  const Tensor w = value_or_die(Tensor::from_vector<float>({10, 0, 9, 0, 0, 10}, {3, 2}));
  const auto f = value_or_die(ops::router_forward(x, w, 2, true));
  const auto p = f.probs.to_vector<double>();
  CHECK(p[0] == doctest::Approx(1.0 / (1.0 + std::exp(-100.0))));
  CHECK(p[2] == 0.0);
  const auto wts = f.weights.to_vector<double>();
  CHECK(wts[0] + wts[1] == doctest::Approx(1.0));
}

TEST_CASE("router: bad arguments are Status errors naming the op") {
  Generator gen(2);
  const Tensor x = randn({4, 3}, DType::kF32, gen), w = randn({5, 3}, DType::kF32, gen);
  Status s = ops::router_forward(x, w, 0, false).status();
  CHECK(mentions(s, "router_forward"));
  CHECK(mentions(s, "k = 0"));
  CHECK(mentions(ops::router_forward(x, w, 6, false).status(), "1 <= k <= E = 5"));
  s = ops::router_forward(x, randn({5, 4}, DType::kF32, gen), 2, false).status();
  CHECK(mentions(s, "router_forward"));
  CHECK(mentions(s, "w_router is f32[5, 4]"));
  CHECK(mentions(ops::router_forward(x, randn({5, 3}, DType::kF64, gen), 2, false).status(), "differ in dtype"));
  CHECK(mentions(ops::router_forward(randn({4}, DType::kF32, gen), w, 2, false).status(), "expected 2 dims"));

  const auto f = value_or_die(ops::router_forward(x, w, 2, false));
  s = ops::router_backward(Tensor::zeros({4, 3}), Tensor(), Tensor(), x, w, f).status();
  CHECK(mentions(s, "router_backward"));
  CHECK(mentions(s, "grad_weights"));
  CHECK(mentions(ops::router_backward(Tensor(), Tensor::zeros({4, 2}), Tensor(), x, w, f).status(), "grad_probs"));
  CHECK(mentions(ops::router_backward(Tensor(), Tensor(), Tensor::zeros({4, 5}, DType::kF64), x, w, f).status(),
                 "grad_logits_extra"));
  ops::RouterForward bad = f;
  bad.expert_ids = f.expert_ids.clone();
  bad.expert_ids.data<int32_t>()[0] = -1;
  CHECK(mentions(ops::router_backward(Tensor::zeros({4, 2}), Tensor(), Tensor(), x, w, bad).status(), "forward.expert_ids[0, 0] = -1"));
  // No upstream gradient at all is fine: zero gradients.
  const auto none = value_or_die(ops::router_backward(Tensor(), Tensor(), Tensor(), x, w, f));
  CHECK(min_abs(none.grad_x) == 0.0);
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: router through logits, probs and weights, with and without renormalising") {
  using namespace mone::autograd;
  const int64_t n = 5, d = 4, e = 6, k = 2;
  auto [x0, w0] = draw_router(7, n, d, e, k, DType::kF64);
  std::vector<Variable> vars{param(x0, "x"), param(w0, "w_router")};
  for (bool norm : {false, true}) {
    for (int which = 0; which < 4; ++which) {
      auto fn = [&](const std::vector<Variable>& v) -> StatusOr<Variable> {
        MONE_ASSIGN_OR_RETURN(RouterOutput r, router(v[0], v[1], k, norm));
        if (which == 0) return r.logits;
        if (which == 1) return r.probs;
        if (which == 2) return r.weights;
        // All three at once: z-loss of the logits, load balance of the probs, and a smooth
        // scalar of the weights (their z-loss).
        MONE_ASSIGN_OR_RETURN(ops::DispatchPlan plan, ops::build_dispatch(r.expert_ids, e));
        MONE_ASSIGN_OR_RETURN(Variable lz, z_loss(r.logits));
        MONE_ASSIGN_OR_RETURN(Variable lb, load_balance_loss(r.probs, plan.counts, k));
        MONE_ASSIGN_OR_RETURN(Variable lw, z_loss(r.weights));
        MONE_ASSIGN_OR_RETURN(Variable s, add(lz, lb));
        return add(s, lw);
      };
      CAPTURE(norm);
      CAPTURE(which);
      const Status s = gradcheck(fn, vars);
      CHECK_MESSAGE(s.ok(), s.message());
    }
  }
}

}  // TEST_SUITE("gradcheck")

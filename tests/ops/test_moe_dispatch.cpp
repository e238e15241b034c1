// Tests of ops/moe_dispatch.h (counting-sort dispatch, permute, combine) and their autograd
// wrappers.
#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "autograd/moe.h"
#include "autograd/tape.h"
#include "ops/moe_dispatch.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::moe_test;

namespace {

Tensor ids_of(std::vector<int32_t> v, int64_t n, int64_t k) { return value_or_die(Tensor::from_vector(v, {n, k})); }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("build_dispatch: a counting sort, stable by token then slot, with the inverse map") {
  // 4 tokens, K = 2, E = 3: pairs p = t·2 + s.
  const Tensor ids = ids_of({2, 0, 0, 1, 2, 1, 0, 2}, 4, 2);
  const auto plan = value_or_die(ops::build_dispatch(ids, 3));
  CHECK(plan.counts.to_vector<int64_t>() == std::vector<int64_t>{3, 2, 3});
  CHECK(plan.offsets.to_vector<int64_t>() == std::vector<int64_t>{0, 3, 5, 8});
  // expert 0: pairs 1 (t0 s1), 2 (t1 s0), 6 (t3 s0); expert 1: 3, 5; expert 2: 0, 4, 7.
  CHECK(plan.order.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 6, 3, 5, 0, 4, 7});
  const auto order = plan.order.to_vector<int64_t>(), slot_row = plan.slot_row.to_vector<int64_t>();
  for (int64_t r = 0; r < 8; ++r) CHECK(slot_row[order[r]] == r);
  CHECK(plan.num_tokens == 4);
  CHECK(plan.k == 2);
  CHECK(plan.num_experts == 3);
  // An expert nobody chose gets an empty segment; i64 ids work too.
  const auto plan2 = value_or_die(ops::build_dispatch(value_or_die(ids.to(DType::kI64)), 5));
  CHECK(plan2.counts.to_vector<int64_t>() == std::vector<int64_t>{3, 2, 3, 0, 0});
}

TEST_CASE("build_dispatch: tokens per expert sum to N·K on random routing") {
  Generator gen(3);
  for (int64_t k : {1, 2, 4}) {
    const Tensor ids = random_ids(gen, 37, k, 8);
    const auto plan = value_or_die(ops::build_dispatch(ids, 8));
    const auto counts = plan.counts.to_vector<int64_t>();
    CHECK(std::accumulate(counts.begin(), counts.end(), int64_t{0}) == 37 * k);
    // Every row of expert e's segment is a pair routed to e, and tokens ascend within it.
    const auto offsets = plan.offsets.to_vector<int64_t>(), order = plan.order.to_vector<int64_t>();
    const auto flat = ids.to_vector<int32_t>();
    for (int64_t e = 0; e < 8; ++e) {
      for (int64_t r = offsets[e]; r < offsets[e + 1]; ++r) {
        CHECK(flat[order[r]] == e);
        if (r > offsets[e]) CHECK(order[r] > order[r - 1]);
      }
    }
  }
}

TEST_CASE("permute then combine with unit weights: the identity for K = 1, K copies for K > 1") {
  Generator gen(4);
  const Tensor x = randn({9, 5}, DType::kF32, gen);
  for (int64_t k : {1, 3}) {
    const auto plan = value_or_die(ops::build_dispatch(random_ids(gen, 9, k, 4), 4));
    const Tensor xp = value_or_die(ops::permute(x, plan));
    CHECK(xp.shape() == Shape{9 * k, 5});
    const Tensor out = value_or_die(ops::combine(xp, Tensor::full({9, k}, 1.0), plan));
    const auto a = out.to_vector<float>(), b = x.to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(k * b[i]).epsilon(1e-6));
    // permute_backward is the same sum of K rows per token.
    CHECK(max_rel_diff(value_or_die(ops::permute_backward(xp, plan)), out) == 0.0);
  }
}

TEST_CASE("combine sums weighted expert rows in slot order") {
  const auto plan = value_or_die(ops::build_dispatch(ids_of({1, 0, 0, 1}, 2, 2), 2));
  // rows (by expert): e0: (t0 s1), (t1 s0); e1: (t0 s0), (t1 s1).
  const Tensor y = value_or_die(Tensor::from_vector<double>({1, 10, 2, 20, 3, 30, 4, 40}, {4, 2}));
  const Tensor w = value_or_die(Tensor::from_vector<double>({0.5, 0.25, 2, 3}, {2, 2}));
  const Tensor out = value_or_die(ops::combine(y, w, plan));
  // t0 = 0.5·row(e1 t0) + 0.25·row(e0 t0) = 0.5·[3, 30] + 0.25·[1, 10]
  // t1 = 2·row(e0 t1) + 3·row(e1 t1) = 2·[2, 20] + 3·[4, 40]
  CHECK(out.to_vector<double>() == std::vector<double>{1.75, 17.5, 16, 160});
  const auto g = value_or_die(ops::combine_backward(Tensor::full({2, 2}, 1.0, DType::kF64), y, w, plan));
  CHECK(g.grad_weights.to_vector<double>() == std::vector<double>{33, 11, 22, 44});
  CHECK(g.grad_y_perm.to_vector<double>() == std::vector<double>{0.25, 0.25, 2, 2, 0.5, 0.5, 3, 3});
}

TEST_CASE("dispatch: bad ids and shapes are Status errors naming the op") {
  Status s = ops::build_dispatch(ids_of({0, 3, 1, 2}, 2, 2), 3).status();
  CHECK(mentions(s, "build_dispatch"));
  CHECK(mentions(s, "= 3 is outside [0, E = 3)"));
  CHECK(mentions(ops::build_dispatch(ids_of({0, -1}, 1, 2), 3).status(), "expert_ids[0, 1] = -1"));
  CHECK(mentions(ops::build_dispatch(Tensor::zeros({2, 2}), 3).status(), "expected i32 or i64"));
  CHECK(mentions(ops::build_dispatch(ids_of({0, 1}, 2, 1), 0).status(), "num_experts = 0"));
  CHECK(mentions(ops::build_dispatch(value_or_die(Tensor::from_vector<int32_t>({0, 1}, {2})), 2).status(),
                 "expected 2 dims"));

  const auto plan = value_or_die(ops::build_dispatch(ids_of({0, 1, 1, 0}, 2, 2), 2));
  s = ops::permute(Tensor::zeros({3, 4}), plan).status();
  CHECK(mentions(s, "permute"));
  CHECK(mentions(s, "expected 2 rows"));
  CHECK(mentions(ops::permute_backward(Tensor::zeros({3, 4}), plan).status(), "grad_perm"));
  CHECK(mentions(ops::combine(Tensor::zeros({4, 3}), Tensor::zeros({2, 3}), plan).status(), "weights"));
  CHECK(mentions(ops::combine(Tensor::zeros({4, 3}), Tensor::zeros({2, 2}, DType::kF64), plan).status(),
                 "differ in dtype"));
  CHECK(mentions(ops::combine_backward(Tensor::zeros({2, 5}), Tensor::zeros({4, 3}), Tensor::zeros({2, 2}), plan)
                     .status(),
                 "grad_out"));
  ops::DispatchPlan broken = plan;
  broken.slot_row = value_or_die(Tensor::from_vector<int64_t>({0, 1, 2, 9}, {4}));
  CHECK(mentions(ops::combine(Tensor::zeros({4, 3}), Tensor::zeros({2, 2}), broken).status(), "plan.slot_row"));
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: permute and combine") {
  using namespace mone::autograd;
  Generator gen(8);
  const auto plan = value_or_die(ops::build_dispatch(random_ids(gen, 5, 2, 3), 3));
  Variable x = param(randn({5, 4}, DType::kF64, gen), "x");
  Variable y = param(randn({10, 4}, DType::kF64, gen), "y_perm");
  Variable w = param(randn({5, 2}, DType::kF64, gen), "weights");
  Status s = gradcheck([&](const std::vector<Variable>& v) { return permute(v[0], plan); }, {x});
  CHECK_MESSAGE(s.ok(), s.message());
  s = gradcheck([&](const std::vector<Variable>& v) { return combine(v[0], v[1], plan); }, {y, w});
  CHECK_MESSAGE(s.ok(), s.message());
}

}  // TEST_SUITE("gradcheck")

// CUDA MoE dispatch (cuda/moe_dispatch.h) against the CPU. "unit": the counting sort's four steps,
// run on the CPU chunk by chunk as the kernels run them (chunks in either order: each is one
// thread's), give the CPU plan exactly. "cuda": the GPU plan equals the CPU plan exactly; permute
// is exact; the combines match to 1e-5 (f32: the CPU's unfused products and sums in slot order;
// bf16: 1/128 against the CPU in f32 on the same bf16 values); two runs give the same bits.
// Shape letters: N tokens, d model width, E experts, K experts per token, R = N·K pairs.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "cuda/moe_dispatch.h"
#include "ops/moe_dispatch.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {

struct DispatchCase {
  int64_t n, k, e;
  bool one_expert;  // every pair to expert e - 1
};
// Size 1, R = 0, odd sizes, more pairs than one chunk (kDispatchChunk = 256), E = 1, empty experts.
const DispatchCase kCases[] = {{1, 1, 1, false},  {0, 2, 4, false},   {5, 2, 3, false},   {7, 3, 9, false},
                       {300, 2, 16, false}, {1000, 4, 7, false}, {129, 2, 5, true}, {513, 1, 1, false}};

Tensor case_ids(const DispatchCase& c, uint64_t seed) {
  Generator gen(seed);
  if (!c.one_expert) return moe_test::random_ids(gen, c.n, c.k, c.e);
  // All rows to one expert (K = 1 per slot may repeat it: one expert and slot-wise distinctness
  // do not matter to the sort).
  return value_or_die(Tensor::from_vector(std::vector<int32_t>(c.n * c.k, static_cast<int32_t>(c.e - 1)), {c.n, c.k}));
}

// The plan's four tensors as vectors, for exact comparison.
std::vector<std::vector<int64_t>> plan_values(const ops::DispatchPlan& p) {
  return {to_cpu(p.counts).to_vector<int64_t>(), to_cpu(p.offsets).to_vector<int64_t>(),
          to_cpu(p.order).to_vector<int64_t>(), to_cpu(p.slot_row).to_vector<int64_t>()};
}

// The kernels' steps on the CPU, each chunk's (or expert's) thread one after another.
std::vector<std::vector<int64_t>> emulate_plan(const Tensor& ids_i32, int64_t e, bool reverse) {
  const std::vector<int64_t> ids = value_or_die(ids_i32.to(DType::kI64)).to_vector<int64_t>();
  const int64_t pairs = static_cast<int64_t>(ids.size()), chunks = cuda::dispatch_chunks(pairs);
  std::vector<int64_t> hist(cuda::dispatch_scratch(pairs, e), -3), counts(e), offsets(e + 1), order(pairs),
      slot_row(pairs);
  auto each = [&](int64_t n, auto f) {
    for (int64_t i = 0; i < n; ++i) f(reverse ? n - 1 - i : i);
  };
  each(chunks, [&](int64_t c) { cuda::dispatch_histogram(ids.data(), pairs, e, c, hist.data()); });
  each(e, [&](int64_t j) { cuda::dispatch_scan(hist.data(), chunks, e, j, counts.data()); });
  cuda::dispatch_offsets(counts.data(), e, offsets.data());
  each(chunks, [&](int64_t c) {
    cuda::dispatch_place(ids.data(), pairs, e, c, offsets.data(), hist.data(), order.data(), slot_row.data());
  });
  return {counts, offsets, order, slot_row};
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("dispatch: the counting sort's steps, emulated chunk by chunk, give the CPU plan exactly") {
  uint64_t seed = 5;
  for (const DispatchCase& c : kCases) {
    CAPTURE(c.n);
    CAPTURE(c.k);
    CAPTURE(c.e);
    const Tensor ids = case_ids(c, seed++);
    const auto want = plan_values(value_or_die(ops::build_dispatch(ids, c.e)));
    CHECK(emulate_plan(ids, c.e, false) == want);
    CHECK(emulate_plan(ids, c.e, true) == want);
  }
}

}  // TEST_SUITE("unit")

TEST_SUITE("cuda") {

TEST_CASE("cuda: build_dispatch equals the CPU plan exactly (i32 and i64 ids), and repeats") {
  if (skip_without_gpu()) return;
  uint64_t seed = 50;
  for (const DispatchCase& c : kCases) {
    CAPTURE(c.n);
    CAPTURE(c.e);
    const Tensor ids = case_ids(c, seed++);
    const auto want = plan_values(value_or_die(ops::build_dispatch(ids, c.e)));
    for (DType dtype : {DType::kI32, DType::kI64}) {
      const auto plan = value_or_die(ops::build_dispatch(to_gpu(as(ids, dtype)), c.e));
      CHECK(plan.offsets.device().is_cuda());
      CHECK(plan_values(plan) == want);
    }
  }
}

TEST_CASE("cuda: permute, permute_backward, combine and combine_backward match the CPU (f32, bf16)") {
  if (skip_without_gpu()) return;
  uint64_t seed = 70;
  for (const DispatchCase& c : kCases) {
    for (int64_t d : {1, 33}) {
      CAPTURE(c.n);
      CAPTURE(c.k);
      CAPTURE(c.e);
      CAPTURE(d);
      const Tensor ids = case_ids(c, seed++);
      const ops::DispatchPlan cpu_plan = value_or_die(ops::build_dispatch(ids, c.e));
      const ops::DispatchPlan gpu_plan = value_or_die(ops::build_dispatch(to_gpu(ids), c.e));
      const int64_t rows = c.n * c.k;
      for (DType dtype : {DType::kF32, DType::kBF16}) {
        const bool f32 = dtype == DType::kF32;
        // bf16: the CPU runs in f32 on the bf16-rounded values.
        const Tensor x = bf16_rounded(random({c.n, d}, seed)), y = bf16_rounded(random({rows, d}, seed + 1));
        const Tensor w = bf16_rounded(random({c.n, c.k}, seed + 2)), go = bf16_rounded(random({c.n, d}, seed + 3));
        const auto gpu = [&](const Tensor& t) { return to_gpu(as(t, dtype)); };
        const double tol = f32 ? 1e-5 : 1.0 / 128;

        const Tensor xp = value_or_die(ops::permute(gpu(x), gpu_plan));
        CHECK(bitwise_equal(as(to_cpu(xp), DType::kF32), value_or_die(ops::permute(x, cpu_plan))));
        check_close("permute_backward", value_or_die(ops::permute_backward(gpu(y), gpu_plan)),
                    value_or_die(ops::permute_backward(y, cpu_plan)), tol);
        const Tensor out = value_or_die(ops::combine(gpu(y), gpu(w), gpu_plan));
        check_close("combine", out, value_or_die(ops::combine(y, w, cpu_plan)), tol);
        const auto gg = value_or_die(ops::combine_backward(gpu(go), gpu(y), gpu(w), gpu_plan));
        const auto gc = value_or_die(ops::combine_backward(go, y, w, cpu_plan));
        check_close("combine_backward", gg.grad_y_perm, gc.grad_y_perm, tol);
        check_close("combine_backward", gg.grad_weights, gc.grad_weights, f32 ? 1e-5 : 1.0 / 64);
        // Two runs, the same bits.
        CHECK(bitwise_equal(value_or_die(ops::combine(gpu(y), gpu(w), gpu_plan)), out));
        const auto again = value_or_die(ops::combine_backward(gpu(go), gpu(y), gpu(w), gpu_plan));
        CHECK(bitwise_equal(again.grad_weights, gg.grad_weights));
        CHECK(bitwise_equal(again.grad_y_perm, gg.grad_y_perm));
      }
    }
  }
}

TEST_CASE("cuda: a CPU plan with CUDA rows is an error naming the op") {
  if (skip_without_gpu()) return;
  const ops::DispatchPlan plan = value_or_die(ops::build_dispatch(Tensor::zeros({3, 1}, DType::kI32), 2));
  const Status s = ops::permute(to_gpu(random({3, 4}, 1)), plan).status();
  CHECK(moe_test::mentions(s, "permute: x is f32[3, 4] cuda"));
  CHECK(moe_test::mentions(s, "the dispatch plan is on cpu"));
}

}  // TEST_SUITE("cuda")

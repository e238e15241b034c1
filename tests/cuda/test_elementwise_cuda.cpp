// The elementwise family on CUDA (cuda/elementwise.cu, cuda/reduce.cu's sum_rows) against the CPU.
#include <doctest/doctest.h>

#include "ops/elementwise.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {
using BinaryFn = StatusOr<Tensor> (*)(const Tensor&, const Tensor&);
struct Named {
  const char* name;
  BinaryFn fn;
};
const Named kBinary[] = {{"add", ops::add}, {"sub", ops::sub}, {"mul", ops::mul}};
}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: add, sub, mul with broadcasting, in f32, match the CPU") {
  if (skip_without_gpu()) return;
  // Odd sizes, a size-1 operand, a suffix of two dims, and equal shapes.
  const std::pair<Shape, Shape> shapes[] = {{{37, 129}, {129}}, {{5, 3, 7}, {3, 7}}, {{1}, {1}}, {{1, 1}, {1}},
                                            {{257}, {257}},     {{4, 1}, {1}}};
  uint64_t seed = 1;
  for (const auto& [sa, sb] : shapes) {
    const Tensor a = random(sa, seed++), b = random(sb, seed++);
    for (const Named& op : kBinary) {
      check_close(op.name, value_or_die(op.fn(to_gpu(a), to_gpu(b))), value_or_die(op.fn(a, b)), 1e-6);
      // The small operand first.
      check_close(op.name, value_or_die(op.fn(to_gpu(b), to_gpu(a))), value_or_die(op.fn(b, a)), 1e-6);
    }
  }
}

TEST_CASE("cuda: scale matches the CPU bit for bit in f32, and bf16 rounds once") {
  if (skip_without_gpu()) return;
  const Tensor a = random({1001}, 3);
  CHECK(bitwise_equal(value_or_die(ops::scale(to_gpu(a), -2.5)), value_or_die(ops::scale(a, -2.5))));
  const Tensor a16 = bf16_rounded(a);
  const Tensor got = value_or_die(ops::scale(to_gpu(as(a16, DType::kBF16)), 0.3));
  CHECK(got.dtype() == DType::kBF16);
  // One rounding of an f32 product: within half a bf16 ulp (2^-9 relative).
  check_close("scale", got, value_or_die(ops::scale(a16, 0.3)), 1.0 / 256);
}

TEST_CASE("cuda: binary ops on bf16 round the f32 result once") {
  if (skip_without_gpu()) return;
  const Tensor a = bf16_rounded(random({33, 65}, 5)), b = bf16_rounded(random({65}, 6));
  const Tensor da = to_gpu(as(a, DType::kBF16)), db = to_gpu(as(b, DType::kBF16));
  for (const Named& op : kBinary) {
    const Tensor got = value_or_die(op.fn(da, db));
    CHECK(got.dtype() == DType::kBF16);
    check_close(op.name, got, value_or_die(op.fn(a, b)), 1.0 / 256);
  }
}

TEST_CASE("cuda: the backward of add, sub and mul sums over broadcast rows as the CPU does") {
  if (skip_without_gpu()) return;
  // 300 rows: more than one chunk of cuda::kRowsPerChunk rows.
  const Tensor a = random({300, 17}, 7), b = random({17}, 8), g = random({300, 17}, 9);
  const auto want = value_or_die(ops::mul_backward(g, a, b));
  const auto got = value_or_die(ops::mul_backward(to_gpu(g), to_gpu(a), to_gpu(b)));
  check_close("mul_backward", got.grad_a, want.grad_a, 1e-6);
  check_close("mul_backward", got.grad_b, want.grad_b, 1e-6);
  const auto want_sub = value_or_die(ops::sub_backward(g, a.shape(), b.shape()));
  const auto got_sub = value_or_die(ops::sub_backward(to_gpu(g), a.shape(), b.shape()));
  check_close("sub_backward", got_sub.grad_b, want_sub.grad_b, 1e-6);
  // sum_to_shape over 3 leading dims, and down to a single element.
  const Tensor t = random({3, 5, 129, 2}, 10);
  check_close("sum_to_shape", value_or_die(ops::sum_to_shape(to_gpu(t), {129, 2})),
              value_or_die(ops::sum_to_shape(t, {129, 2})), 1e-6);
  check_close("sum_to_shape", value_or_die(ops::sum_to_shape(to_gpu(t), {2})),
              value_or_die(ops::sum_to_shape(t, {2})), 1e-6);
  // Two runs give the same bits (a fixed summation order, no atomics).
  CHECK(bitwise_equal(value_or_die(ops::sum_to_shape(to_gpu(t), {2})),
                      value_or_die(ops::sum_to_shape(to_gpu(t), {2}))));
}

TEST_CASE("cuda: clamp and its backward match the CPU bit for bit in f32, bf16 exactly on rounded inputs") {
  if (skip_without_gpu()) return;
  const Tensor x = random({37, 129}, 12, 2.0), g = random({37, 129}, 13);
  CHECK(bitwise_equal(value_or_die(ops::clamp(to_gpu(x), -1.5, 0.5)), value_or_die(ops::clamp(x, -1.5, 0.5))));
  CHECK(bitwise_equal(value_or_die(ops::clamp_backward(to_gpu(g), to_gpu(x), -1.5, 0.5)),
                      value_or_die(ops::clamp_backward(g, x, -1.5, 0.5))));
  // bf16 values and bounds that bf16 holds exactly: no rounding at all.
  const Tensor x16 = bf16_rounded(x);
  const Tensor got = value_or_die(ops::clamp(to_gpu(as(x16, DType::kBF16)), -1.5, 0.5));
  CHECK(got.dtype() == DType::kBF16);
  check_close("clamp", got, value_or_die(ops::clamp(x16, -1.5, 0.5)), 0.0);
}

TEST_CASE("cuda: elementwise ops refuse f64 with a Status") {
  if (skip_without_gpu()) return;
  const Tensor d64 = to_gpu(as(random({4}, 11), DType::kF64));
  const auto r = ops::add(d64, d64);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("no CUDA kernel") != std::string::npos);
}

}  // TEST_SUITE

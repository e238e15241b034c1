// The reduce family on CUDA (cuda/reduce.cu) against the CPU: sums accumulate in double on both.
#include <doctest/doctest.h>

#include "ops/reduce.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: sum and mean of every element match the CPU, and repeat bit for bit") {
  if (skip_without_gpu()) return;
  // Sizes below one block, odd, and above kSumPartials blocks of 256 (grid-stride loops).
  for (int64_t n : {1, 3, 255, 1001, 300007}) {
    INFO("n = ", n);
    const Tensor x = random({n}, n);
    const Tensor d = to_gpu(x);
    check_close("sum", value_or_die(ops::sum(d)), value_or_die(ops::sum(x)), 1e-6);
    check_close("mean", value_or_die(ops::mean(d)), value_or_die(ops::mean(x)), 1e-6);
    CHECK(bitwise_equal(value_or_die(ops::sum(d)), value_or_die(ops::sum(d))));
  }
  // Empty: the sum is 0, the mean an error.
  const Tensor empty = value_or_die(Tensor::empty({0}, DType::kF32, Device::cuda()));
  CHECK(to_cpu(value_or_die(ops::sum(empty))).item() == 0.0);
  CHECK_FALSE(ops::mean(empty).ok());
  // bf16: the sum is rounded once from a double accumulator.
  const Tensor x16 = bf16_rounded(random({4099}, 2));
  check_close("sum", value_or_die(ops::sum(to_gpu(as(x16, DType::kBF16)))), value_or_die(ops::sum(x16)), 1.0 / 256);
}

TEST_CASE("cuda: sum_last and the three backwards match the CPU") {
  if (skip_without_gpu()) return;
  for (const Shape& shape : {Shape{7, 1}, Shape{1, 5}, Shape{3, 17, 513}, Shape{2, 4097}}) {
    INFO("x ", shape_string(shape));
    const Tensor x = random(shape, 3);
    check_close("sum_last", value_or_die(ops::sum_last(to_gpu(x))), value_or_die(ops::sum_last(x)), 1e-6);
    const Shape rows(shape.begin(), shape.end() - 1);
    const Tensor g = random(rows, 4);
    check_close("sum_last_backward", value_or_die(ops::sum_last_backward(to_gpu(g), shape)),
                value_or_die(ops::sum_last_backward(g, shape)), 0.0);
    const Tensor g0 = random({}, 5);
    check_close("sum_backward", value_or_die(ops::sum_backward(to_gpu(g0), shape)),
                value_or_die(ops::sum_backward(g0, shape)), 0.0);
    check_close("mean_backward", value_or_die(ops::mean_backward(to_gpu(g0), shape)),
                value_or_die(ops::mean_backward(g0, shape)), 1e-7);
  }
  const Tensor x16 = bf16_rounded(random({9, 300}, 6));
  check_close("sum_last", value_or_die(ops::sum_last(to_gpu(as(x16, DType::kBF16)))), value_or_die(ops::sum_last(x16)),
              1.0 / 256);
}

}  // TEST_SUITE

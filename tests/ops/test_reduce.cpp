// Reductions: sum, mean and sum_last against naive f64 loops, their backwards, errors, gradcheck.
// Shape letters: [...] leading dims, n the last (reduced) dim.
#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "autograd/reduce.h"
#include "ops/reduce.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

TEST_SUITE("unit") {

TEST_CASE("sum and mean of all elements match an f64 loop, across block and thread boundaries") {
  // 5000 spans two summation blocks; 70001 takes the parallel path.
  const std::vector<Shape> shapes = {{1}, {7}, {3, 5}, {2, 1, 9}, {}, {5000}, {70001}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Shape& shape : shapes) {
      Tensor x = random(shape, dt, seed++);
      double ref = 0.0;
      for (double v : x.to_vector<double>()) ref += v;
      Tensor s = value_or_die(ops::sum(x)), m = value_or_die(ops::mean(x));
      REQUIRE(s.dim() == 0);
      REQUIRE(s.dtype() == dt);
      // f32 inputs are summed in double, so only the final rounding to f32 remains.
      const double tol = dt == DType::kF64 ? 1e-12 * x.numel() : 1e-6 * std::max(1.0, std::abs(ref));
      CHECK(std::abs(s.item() - ref) <= tol);
      CHECK(std::abs(m.item() - ref / x.numel()) <= tol / x.numel() + 1e-7);
    }
  }
  CHECK(value_or_die(ops::sum(Tensor::zeros({0, 3}))).item() == 0.0);
}

TEST_CASE("sum_last matches an f64 loop, including n = 1 and one row") {
  const std::vector<Shape> shapes = {{1}, {9}, {3, 1}, {4, 7}, {2, 3, 5}, {300, 130}};
  uint64_t seed = 100;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Shape& shape : shapes) {
      Tensor x = random(shape, dt, seed++);
      const int64_t n = shape.back(), rows = x.numel() / n;
      const std::vector<double> xv = x.to_vector<double>();
      std::vector<double> ref(rows, 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < n; ++j) ref[r] += xv[r * n + j];
      Tensor y = value_or_die(ops::sum_last(x));
      CHECK(y.shape() == Shape(shape.begin(), shape.end() - 1));
      CHECK(max_abs_diff(y, ref) <= tolerance(dt, n));
    }
  }
}

TEST_CASE("reduce backwards spread the gradient with the right scale and layout") {
  Tensor g0 = Tensor::scalar<double>(3.0);
  auto gs = value_or_die(ops::sum_backward(g0, {2, 3}));
  CHECK(gs.shape() == Shape{2, 3});
  CHECK(gs.to_vector<double>() == std::vector<double>(6, 3.0));
  auto gm = value_or_die(ops::mean_backward(g0, {2, 3}));
  CHECK(gm.to_vector<double>() == std::vector<double>(6, 0.5));
  // sum_last: grad_x[r, j] = grad_out[r]; rows must not be swapped with columns.
  Tensor g = value_or_die(Tensor::from_vector<double>({1, -2}, {2}));
  auto gl = value_or_die(ops::sum_last_backward(g, {2, 3}));
  CHECK(gl.to_vector<double>() == std::vector<double>{1, 1, 1, -2, -2, -2});
  Tensor g32 = value_or_die(Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  auto gl32 = value_or_die(ops::sum_last_backward(g32, {2, 3, 2}));
  CHECK(gl32.to_vector<double>() == std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6});
}

TEST_CASE("reduce: bad arguments are errors naming the op and shapes") {
  check_error(ops::mean(Tensor::zeros({0, 4})), {"mean", "f32[0, 4]", "no elements"});
  check_error(ops::sum(Tensor::zeros({3}, DType::kI32)), {"sum", "i32[3]", "f32 or f64"});
  check_error(ops::sum_last(Tensor::zeros({})), {"sum_last", "f32[]", "at least 1 dims"});
  check_error(ops::sum_backward(Tensor::zeros({1}), {2}), {"sum_backward", "grad_out", "f32[1]", "0 dims"});
  check_error(ops::mean_backward(Tensor::zeros({2}), {2}), {"mean_backward", "grad_out"});
  check_error(ops::sum_last_backward(Tensor::zeros({3}), {2, 4}), {"sum_last_backward", "f32[3]", "[2]", "[2, 4]"});
  check_error(ops::sum_last_backward(Tensor::zeros({}), {}), {"sum_last_backward", "x_shape is []"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: sum, mean and sum_last") {
  autograd::Variable x(random({3, 4}, DType::kF64, 7), true, "x");
  for (int which = 0; which < 3; ++which) {
    auto fn = [which](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
      if (which == 0) return autograd::sum(in[0]);
      if (which == 1) return autograd::mean(in[0]);
      return autograd::sum_last(in[0]);
    };
    Status s = autograd::gradcheck(fn, {x});
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

}  // TEST_SUITE("gradcheck")

// clamp (OLMoE's clip_qkv): forward and backward against f64 formulas, the bounds and NaN,
// errors, and an f64 gradcheck away from the kinks.
// Shape letters: none; any shape.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "ops/elementwise.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

TEST_SUITE("unit") {

TEST_CASE("clamp and its backward match min(max(x, lo), hi) and the in-range mask") {
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Shape& shape : {Shape{1}, Shape{7}, Shape{3, 5}, Shape{300, 201}}) {
      const Tensor x = random(shape, dt, seed++), g = random(shape, dt, seed++);
      const double lo = -0.5, hi = 0.75;
      const std::vector<double> xv = x.to_vector<double>(), gv = g.to_vector<double>();
      std::vector<double> y(xv.size()), gx(xv.size());
      for (size_t i = 0; i < xv.size(); ++i) {
        y[i] = std::min(std::max(xv[i], lo), hi);
        gx[i] = (xv[i] >= lo && xv[i] <= hi) ? gv[i] : 0.0;
      }
      CHECK(max_abs_diff(value_or_die(ops::clamp(x, lo, hi)), y) == 0.0);
      CHECK(max_abs_diff(value_or_die(ops::clamp_backward(g, x, lo, hi)), gx) == 0.0);
    }
  }
}

TEST_CASE("clamp: values at the bounds keep their gradient, NaN stays NaN, lo == hi is a constant") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = value_or_die(Tensor::from_vector<double>({-2.0, -1.0, 0.5, 1.0, 3.0, nan}, {6}));
  const auto y = value_or_die(ops::clamp(x, -1.0, 1.0)).to_vector<double>();
  CHECK(y[0] == -1.0);
  CHECK(y[1] == -1.0);
  CHECK(y[2] == 0.5);
  CHECK(y[3] == 1.0);
  CHECK(y[4] == 1.0);
  CHECK(std::isnan(y[5]));
  const auto g = value_or_die(ops::clamp_backward(Tensor::full({6}, 2.0, DType::kF64), x, -1.0, 1.0)).to_vector<double>();
  CHECK(g == std::vector<double>{0.0, 2.0, 2.0, 2.0, 0.0, 0.0});
  const auto c = value_or_die(ops::clamp(x, 0.25, 0.25)).to_vector<double>();
  CHECK(c[0] == 0.25);
  CHECK(c[4] == 0.25);
}

TEST_CASE("clamp: reversed or NaN bounds and mismatched shapes are errors") {
  const Tensor x = random({4}, DType::kF32, 3);
  check_error(ops::clamp(x, 1.0, -1.0), {"clamp", "[1, -1]", "lo <= hi"});
  check_error(ops::clamp(x, std::nan(""), 1.0), {"clamp", "lo <= hi"});
  check_error(ops::clamp_backward(random({5}, DType::kF32, 4), x, -1.0, 1.0), {"clamp_backward"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: clamp in f64, inputs away from the bounds on both sides") {
  // Values spread over [-3, 3] but at least 0.05 from the bounds ±1, where clamp has its kinks.
  std::vector<double> v;
  for (int i = 0; i < 24; ++i) {
    double t = -3.0 + 6.0 * (i + 0.5) / 24.0;
    if (std::abs(std::abs(t) - 1.0) < 0.05) t += 0.1;
    v.push_back(t);
  }
  autograd::Variable x(value_or_die(Tensor::from_vector<double>(v, {4, 6})), true);
  const Status s = autograd::gradcheck(
      [](const std::vector<autograd::Variable>& in) { return autograd::clamp(in[0], -1.0, 1.0); }, {x});
  CHECK_MESSAGE(s.ok(), s.message());
}

}  // TEST_SUITE("gradcheck")

// Softmax and log-softmax over the last dim: forward against f64 loops, backward against the
// explicit Jacobian, overflow safety, errors, gradcheck.
// Shape letters: [...] leading dims (R rows), n the softmax dim.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/softmax.h"
#include "ops/softmax.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

TEST_SUITE("unit") {

TEST_CASE("softmax and log_softmax match f64 loops; backwards match the explicit Jacobian") {
  const std::vector<Shape> shapes = {{1}, {1, 1}, {7}, {3, 7}, {2, 3, 5}, {4, 1}, {130, 257}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Shape& shape : shapes) {
      Tensor x = random(shape, dt, seed++), g = random(shape, dt, seed++);
      const int64_t n = shape.back(), rows = x.numel() / n;
      const std::vector<double> xv = x.to_vector<double>(), gv = g.to_vector<double>();
      std::vector<double> p(xv.size()), lp(xv.size()), gp(xv.size()), glp(xv.size());
      for (int64_t r = 0; r < rows; ++r) {
        const double* xr = &xv[r * n];
        double z = 0.0;
        for (int64_t j = 0; j < n; ++j) z += std::exp(xr[j]);
        for (int64_t j = 0; j < n; ++j) {
          p[r * n + j] = std::exp(xr[j]) / z;
          lp[r * n + j] = xr[j] - std::log(z);
        }
        // grad_x_j = Σ_k g_k ∂y_k/∂x_j with ∂p_k/∂x_j = p_k (δ_kj - p_j) and ∂lp_k/∂x_j = δ_kj - p_j.
        for (int64_t j = 0; j < n; ++j) {
          double a = 0.0, b = 0.0;
          for (int64_t k = 0; k < n; ++k) {
            const double delta = k == j ? 1.0 : 0.0;
            a += gv[r * n + k] * p[r * n + k] * (delta - p[r * n + j]);
            b += gv[r * n + k] * (delta - p[r * n + j]);
          }
          gp[r * n + j] = a;
          glp[r * n + j] = b;
        }
      }
      Tensor y = value_or_die(ops::softmax(x)), ly = value_or_die(ops::log_softmax(x));
      CHECK(y.shape() == shape);
      CHECK(max_abs_diff(y, p) <= tolerance(dt, 4));
      CHECK(max_abs_diff(ly, lp) <= tolerance(dt, 4));
      CHECK(max_abs_diff(value_or_die(ops::softmax_backward(g, y)), gp) <= tolerance(dt, n));
      CHECK(max_abs_diff(value_or_die(ops::log_softmax_backward(g, ly)), glp) <= tolerance(dt, n));
    }
  }
}

TEST_CASE("softmax subtracts the row max: huge logits do not overflow") {
  Tensor x = value_or_die(Tensor::from_vector<float>({1000.f, 1000.f, -1000.f, 0.f, 88.f, 89.f}, {2, 3}));
  const auto y = value_or_die(ops::softmax(x)).to_vector<double>();
  CHECK(y[0] == doctest::Approx(0.5));
  CHECK(y[1] == doctest::Approx(0.5));
  CHECK(y[2] == 0.0);
  const double z = std::exp(-89.0) + std::exp(-1.0) + 1.0;
  CHECK(y[5] == doctest::Approx(1.0 / z).epsilon(1e-6));
  const auto ly = value_or_die(ops::log_softmax(x)).to_vector<double>();
  CHECK(ly[0] == doctest::Approx(-std::log(2.0)));
  CHECK(ly[2] == doctest::Approx(-2000.0 - std::log(2.0)));
  CHECK(ly[3] == doctest::Approx(-89.0 - std::log(z)).epsilon(1e-6));
}

TEST_CASE("softmax: bad arguments are errors naming the op and shapes") {
  check_error(ops::softmax(Tensor::zeros({})), {"softmax", "f32[]", "at least 1 dims"});
  check_error(ops::log_softmax(Tensor::zeros({3}, DType::kI32)), {"log_softmax", "i32[3]"});
  check_error(ops::softmax_backward(Tensor::zeros({2, 3}), Tensor::zeros({3, 2})),
              {"softmax_backward", "grad_out is f32[2, 3]", "y is f32[3, 2]"});
  check_error(ops::log_softmax_backward(Tensor::zeros({2}), Tensor::zeros({2}, DType::kF64)),
              {"log_softmax_backward", "differ in dtype"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: softmax and log_softmax") {
  autograd::Variable x(random({3, 6}, DType::kF64, 21), true, "x");
  autograd::Variable one(random({1, 1}, DType::kF64, 22), true, "one");  // n = 1: the gradient is 0
  for (const autograd::Variable& in : {x, one}) {
    for (int which = 0; which < 2; ++which) {
      auto fn = [which](const std::vector<autograd::Variable>& v) -> StatusOr<autograd::Variable> {
        return which == 0 ? autograd::softmax(v[0]) : autograd::log_softmax(v[0]);
      };
      Status s = autograd::gradcheck(fn, {in});
      CHECK_MESSAGE(s.ok(), s.message());
    }
  }
}

}  // TEST_SUITE("gradcheck")

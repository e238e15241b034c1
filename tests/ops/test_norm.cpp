// RMSNorm: forward and rstd against naive f64 loops, backward by gradcheck, the zero row, errors.
// Shape letters: N rows, d normalised width.
#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "autograd/norm.h"
#include "ops/norm.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

TEST_SUITE("unit") {

TEST_CASE("rmsnorm matches naive loops for f32 and f64, including d = 1 and one row") {
  const std::vector<Shape> shapes = {{1, 1}, {3, 7}, {2, 3, 5}, {4, 1}, {1, 64}, {5}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Shape& shape : shapes) {
      const int64_t d = shape.back(), n = shape_numel(shape) / d;
      const double eps = 1e-5;
      Tensor x = random(shape, dt, seed++), w = random({d}, dt, seed++);
      auto f = value_or_die(ops::rmsnorm(x, w, eps));
      REQUIRE(f.y.shape() == shape);
      REQUIRE(f.rstd.shape() == Shape(shape.begin(), shape.end() - 1));
      const std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>();
      std::vector<double> y(xv.size()), rstd(n);
      for (int64_t r = 0; r < n; ++r) {
        double ss = 0.0;
        for (int64_t i = 0; i < d; ++i) ss += xv[r * d + i] * xv[r * d + i];
        rstd[r] = 1.0 / std::sqrt(ss / d + eps);
        for (int64_t i = 0; i < d; ++i) y[r * d + i] = xv[r * d + i] * rstd[r] * wv[i];
      }
      CHECK(max_abs_diff(f.y, y) <= tolerance(dt, d));
      CHECK(max_abs_diff(f.rstd, rstd) <= tolerance(dt, d) * 10);
    }
  }
}

TEST_CASE("rmsnorm of an all-zero row is zero with finite gradients (eps keeps rstd finite)") {
  Tensor x = Tensor::zeros({2, 4}, DType::kF64), w = Tensor::full({4}, 2.0, DType::kF64);
  auto f = value_or_die(ops::rmsnorm(x, w, 1e-6));
  CHECK(f.y.to_vector<double>() == std::vector<double>(8, 0.0));
  CHECK(f.rstd.to_vector<double>()[0] == doctest::Approx(1000.0));
  auto g = value_or_die(ops::rmsnorm_backward(Tensor::full({2, 4}, 1.0, DType::kF64), x, w, f.rstd));
  // At x = 0 the rstd term vanishes: grad_x = rstd · w; grad_w = Σ grad_y · xhat = 0.
  CHECK(g.grad_x.to_vector<double>()[3] == doctest::Approx(2000.0));
  CHECK(g.grad_w.to_vector<double>() == std::vector<double>(4, 0.0));
}

TEST_CASE("rmsnorm_backward in f32 agrees with f64") {
  Tensor x = random({6, 33}, DType::kF64, 7), w = random({33}, DType::kF64, 8), gy = random({6, 33}, DType::kF64, 9);
  auto f64 = value_or_die(ops::rmsnorm(x, w, 1e-6));
  auto g64 = value_or_die(ops::rmsnorm_backward(gy, x, w, f64.rstd));
  auto to32 = [](const Tensor& t) { return value_or_die(t.to(DType::kF32)); };
  auto f32 = value_or_die(ops::rmsnorm(to32(x), to32(w), 1e-6));
  auto g32 = value_or_die(ops::rmsnorm_backward(to32(gy), to32(x), to32(w), f32.rstd));
  CHECK(max_abs_diff(g32.grad_x, g64.grad_x) <= 1e-4);
  CHECK(max_abs_diff(g32.grad_w, g64.grad_w) <= 1e-4);
}

TEST_CASE("rmsnorm: bad arguments are errors naming the op and shapes") {
  Tensor x = Tensor::zeros({2, 4}), w = Tensor::zeros({4});
  check_error(ops::rmsnorm(x, Tensor::zeros({3}), 1e-6), {"rmsnorm", "x is f32[2, 4]", "w is f32[3]"});
  check_error(ops::rmsnorm(x, Tensor::zeros({1, 4}), 1e-6), {"rmsnorm", "w [d]"});
  check_error(ops::rmsnorm(Tensor::zeros({}), Tensor::zeros({1}), 1e-6), {"rmsnorm", "f32[]"});
  check_error(ops::rmsnorm(x, Tensor::zeros({4}, DType::kF64), 1e-6), {"rmsnorm", "differ in dtype"});
  check_error(ops::rmsnorm(x, w, 0.0), {"rmsnorm", "eps must be positive"});
  check_error(ops::rmsnorm(x, w, -1.0), {"eps must be positive"});
  check_error(ops::rmsnorm(Tensor::zeros({2, 4}, DType::kI64), Tensor::zeros({4}, DType::kI64), 1e-6), {"f32 or f64"});
  Tensor rstd = Tensor::zeros({2});
  check_error(ops::rmsnorm_backward(Tensor::zeros({2, 5}), x, w, rstd), {"rmsnorm_backward", "grad_y", "[2, 4]"});
  check_error(ops::rmsnorm_backward(Tensor::zeros({2, 4}), x, w, Tensor::zeros({4})), {"rmsnorm_backward", "rstd", "[2]"});
  check_error(ops::rmsnorm_backward(Tensor::zeros({2, 4}), x, Tensor::zeros({2}), rstd), {"rmsnorm_backward", "w [d]"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: rmsnorm on 2-D and 3-D inputs") {
  using autograd::Variable;
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 2, 4}, Shape{4, 1}}) {
    Variable x(random(shape, DType::kF64, 21), true, "x");
    Variable w(random({shape.back()}, DType::kF64, 22), true, "w");
    auto fn = [](const std::vector<Variable>& in) { return autograd::rmsnorm(in[0], in[1], 1e-5); };
    Status s = autograd::gradcheck(fn, {x, w});
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

}  // TEST_SUITE("gradcheck")

// Optimizer arithmetic: global gradient norm and clipping against f64 loops, AdamW against a
// naive f64 reference over several steps, decoupled weight decay, version bumps, errors.
// Shape letters: none; each parameter, gradient and moment share one shape.
#include <doctest/doctest.h>

#include <cmath>

#include "ops/optim.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

TEST_SUITE("unit") {

TEST_CASE("global_grad_norm sums squares over every tensor in double, skipping undefined ones") {
  std::vector<Tensor> grads = {random({3, 5}, DType::kF32, 1), Tensor(), random({70001}, DType::kF64, 2),
                               random({1}, DType::kF32, 3)};
  double ref = 0.0;
  for (const Tensor& g : grads) {
    if (!g.defined()) continue;
    for (double v : g.to_vector<double>()) ref += v * v;
  }
  ref = std::sqrt(ref);
  CHECK(std::abs(value_or_die(ops::global_grad_norm(grads)) - ref) <= 1e-12 * ref);
  CHECK(value_or_die(ops::global_grad_norm({})) == 0.0);
}

TEST_CASE("clip_grad_norm scales in place above max_norm, returns the pre-clip norm, bumps versions") {
  Tensor a = value_or_die(Tensor::from_vector<float>({3.f, 0.f}, {2}));
  Tensor b = value_or_die(Tensor::from_vector<double>({0.0, -4.0}, {1, 2}));
  std::vector<Tensor> grads = {a, Tensor(), b};
  const uint64_t va = a.version();
  CHECK(value_or_die(ops::clip_grad_norm(grads, 1.0)) == doctest::Approx(5.0).epsilon(1e-15));
  const double s = 1.0 / (5.0 + 1e-6);
  CHECK(a.to_vector<double>()[0] == doctest::Approx(3.0 * s).epsilon(1e-7));  // same storage: in place
  CHECK(b.to_vector<double>()[1] == doctest::Approx(-4.0 * s).epsilon(1e-14));
  CHECK(a.version() == va + 1);
  // At or below max_norm nothing changes, not even the version.
  const uint64_t vb = b.version();
  const double norm = value_or_die(ops::clip_grad_norm(grads, 2.0));
  CHECK(norm == doctest::Approx(5.0 * s).epsilon(1e-6));
  CHECK(b.version() == vb);
  CHECK(b.to_vector<double>()[1] == doctest::Approx(-4.0 * s).epsilon(1e-14));
}

TEST_CASE("adamw_update matches a naive f64 reference over several steps, in f32 and f64") {
  const ops::AdamWParams p{.lr = 0.01, .beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.1};
  for (DType dt : {DType::kF32, DType::kF64}) {
    const Shape shape = {3, 7};
    Tensor param = random(shape, dt, 11), m = Tensor::zeros(shape, dt), v = Tensor::zeros(shape, dt);
    std::vector<double> w = param.to_vector<double>(), mr(21, 0.0), vr(21, 0.0);
    for (int64_t step = 1; step <= 5; ++step) {
      Tensor grad = random(shape, dt, 100 + step);
      const std::vector<double> g = grad.to_vector<double>();
      for (size_t i = 0; i < w.size(); ++i) {
        w[i] -= p.lr * p.weight_decay * w[i];
        mr[i] = p.beta1 * mr[i] + (1 - p.beta1) * g[i];
        vr[i] = p.beta2 * vr[i] + (1 - p.beta2) * g[i] * g[i];
        const double m_hat = mr[i] / (1 - std::pow(p.beta1, step)), v_hat = vr[i] / (1 - std::pow(p.beta2, step));
        w[i] -= p.lr * m_hat / (std::sqrt(v_hat) + p.eps);
      }
      const uint64_t version = param.version();
      REQUIRE(ops::adamw_update(param, grad, m, v, p, step).ok());
      CHECK(param.version() == version + 1);
    }
    const double tol = dt == DType::kF64 ? 1e-14 : 2e-6;
    CHECK(max_abs_diff(param, w) <= tol);
    CHECK(max_abs_diff(m, mr) <= tol);
    CHECK(max_abs_diff(v, vr) <= tol);
  }
}

TEST_CASE("adamw: the first step moves each weight by lr against its gradient's sign") {
  // With m̂ = g and v̂ = g² after bias correction, step 1 is lr · g / (|g| + eps).
  Tensor param = value_or_die(Tensor::from_vector<double>({1.0, 1.0, 1.0}, {3}));
  Tensor grad = value_or_die(Tensor::from_vector<double>({0.5, -2.0, 1e-3}, {3}));
  Tensor m = Tensor::zeros({3}, DType::kF64), v = Tensor::zeros({3}, DType::kF64);
  REQUIRE(ops::adamw_update(param, grad, m, v, {.lr = 0.1, .eps = 0.0}, 1).ok());
  const auto w = param.to_vector<double>();
  CHECK(w[0] == doctest::Approx(0.9).epsilon(1e-14));
  CHECK(w[1] == doctest::Approx(1.1).epsilon(1e-14));
  CHECK(w[2] == doctest::Approx(0.9).epsilon(1e-12));
}

TEST_CASE("adamw weight decay is decoupled: a zero gradient shrinks the weight by exactly 1 - lr·wd") {
  const ops::AdamWParams p{.lr = 0.05, .weight_decay = 0.2};
  Tensor param = value_or_die(Tensor::from_vector<double>({2.0, -3.0, 0.25}, {3}));
  Tensor grad = Tensor::zeros({3}, DType::kF64), m = Tensor::zeros({3}, DType::kF64), v = Tensor::zeros({3}, DType::kF64);
  for (int64_t step = 1; step <= 3; ++step) REQUIRE(ops::adamw_update(param, grad, m, v, p, step).ok());
  const double f = std::pow(1.0 - 0.05 * 0.2, 3);
  const auto w = param.to_vector<double>();
  CHECK(w[0] == doctest::Approx(2.0 * f).epsilon(1e-15));
  CHECK(w[1] == doctest::Approx(-3.0 * f).epsilon(1e-15));
  CHECK(w[2] == doctest::Approx(0.25 * f).epsilon(1e-15));
  // The decay never enters the moments (it would, with L2 regularisation folded into the gradient).
  CHECK(m.to_vector<double>() == std::vector<double>(3, 0.0));
  CHECK(v.to_vector<double>() == std::vector<double>(3, 0.0));
}

TEST_CASE("optim: bad arguments are errors naming the op, the tensor and the field") {
  check_error(ops::global_grad_norm({Tensor::zeros({2}), Tensor::zeros({2}, DType::kI32)}),
              {"global_grad_norm", "grads[1]", "i32[2]"});
  std::vector<Tensor> grads = {Tensor::zeros({2})};
  check_error(ops::clip_grad_norm(grads, 0.0), {"clip_grad_norm", "max_norm = 0"});
  check_error(ops::clip_grad_norm(grads, NAN), {"clip_grad_norm", "max_norm"});
  std::vector<Tensor> strided = {value_or_die(Tensor::zeros({2, 3}).transpose(0, 1))};
  check_error(ops::clip_grad_norm(strided, 1.0), {"clip_grad_norm", "grads[0]", "non-contiguous"});

  Tensor w = Tensor::zeros({4}), g = Tensor::zeros({4}), m = Tensor::zeros({4}), v = Tensor::zeros({4});
  const ops::AdamWParams p;
  Tensor g5 = Tensor::zeros({5}), g64 = Tensor::zeros({4}, DType::kF64);
  check_error(ops::adamw_update(w, g5, m, v, p, 1), {"adamw_update", "shapes differ", "grad is f32[5]"});
  check_error(ops::adamw_update(w, g64, m, v, p, 1), {"adamw_update", "differ in dtype"});
  check_error(ops::adamw_update(w, g, m, v, p, 0), {"adamw_update", "step = 0"});
  check_error(ops::adamw_update(w, g, m, v, {.beta1 = 1.0}, 1), {"adamw_update", "beta1 = 1"});
  check_error(ops::adamw_update(w, g, m, v, {.beta2 = -0.1}, 1), {"beta2 = -0.1"});
  check_error(ops::adamw_update(w, g, m, v, {.lr = -1.0}, 1), {"lr = -1"});
  check_error(ops::adamw_update(w, g, m, v, {.weight_decay = NAN}, 1), {"weight_decay"});
  Tensor w2 = value_or_die(Tensor::zeros({2, 2}).transpose(0, 1));
  Tensor g2 = Tensor::zeros({2, 2}), m2 = Tensor::zeros({2, 2}), v2 = Tensor::zeros({2, 2});
  check_error(ops::adamw_update(w2, g2, m2, v2, p, 1), {"adamw_update", "param", "non-contiguous"});
  Tensor wi = Tensor::zeros({4}, DType::kI64), gi = Tensor::zeros({4}, DType::kI64);
  Tensor mi = Tensor::zeros({4}, DType::kI64), vi = Tensor::zeros({4}, DType::kI64);
  check_error(ops::adamw_update(wi, gi, mi, vi, p, 1), {"adamw_update", "param is i64[4]"});
}

}  // TEST_SUITE("unit")

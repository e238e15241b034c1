// Activations: sigmoid, silu and swiglu against f64 formulas, large inputs, swiglu against its
// composition silu · mul (forward and backward), errors, gradcheck.
// Shape letters: none; any shape.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/activation.h"
#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

namespace {
double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double ref_silu(double x) { return x * ref_sigmoid(x); }
// d/dx of x σ(x), written as the product rule.
double ref_silu_grad(double x) { return ref_sigmoid(x) + x * ref_sigmoid(x) * (1.0 - ref_sigmoid(x)); }
}  // namespace

TEST_SUITE("unit") {

TEST_CASE("sigmoid, silu and their backwards match f64 formulas on odd shapes") {
  const std::vector<Shape> shapes = {{1}, {7}, {3, 5}, {2, 1, 9}, {200, 201}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Shape& shape : shapes) {
      Tensor x = random(shape, dt, seed++), g = random(shape, dt, seed++);
      const std::vector<double> xv = x.to_vector<double>(), gv = g.to_vector<double>();
      std::vector<double> sig(xv.size()), si(xv.size()), gsig(xv.size()), gsi(xv.size());
      for (size_t i = 0; i < xv.size(); ++i) {
        sig[i] = ref_sigmoid(xv[i]);
        si[i] = ref_silu(xv[i]);
        gsig[i] = gv[i] * sig[i] * (1.0 - sig[i]);
        gsi[i] = gv[i] * ref_silu_grad(xv[i]);
      }
      Tensor y_sig = value_or_die(ops::sigmoid(x));
      CHECK(max_abs_diff(y_sig, sig) <= tolerance(dt, 4));
      CHECK(max_abs_diff(value_or_die(ops::silu(x)), si) <= tolerance(dt, 4));
      CHECK(max_abs_diff(value_or_die(ops::sigmoid_backward(g, y_sig)), gsig) <= tolerance(dt, 4));
      CHECK(max_abs_diff(value_or_die(ops::silu_backward(g, x)), gsi) <= tolerance(dt, 4));
    }
  }
}

TEST_CASE("sigmoid and silu stay finite and exact for large |x|") {
  Tensor x = value_or_die(Tensor::from_vector<float>({-1000.f, -50.f, 0.f, 50.f, 1000.f}, {5}));
  const auto s = value_or_die(ops::sigmoid(x)).to_vector<double>();
  CHECK(s[0] == 0.0);
  CHECK(s[1] == doctest::Approx(std::exp(-50.0)).epsilon(1e-6));
  CHECK(s[2] == 0.5);
  CHECK(s[4] == 1.0);
  const auto y = value_or_die(ops::silu(x)).to_vector<double>();
  CHECK(y[0] == 0.0);  // -1000 · 0, not NaN
  CHECK(y[4] == 1000.0);
  const auto g = value_or_die(ops::silu_backward(Tensor::full({5}, 1.0), x)).to_vector<double>();
  CHECK(g[0] == 0.0);
  CHECK(g[2] == 0.5);
  CHECK(g[4] == 1.0);
}

TEST_CASE("swiglu equals silu(gate) * up, forward and backward, against the composition") {
  for (DType dt : {DType::kF32, DType::kF64}) {
    const Shape shape = {5, 13};
    Tensor gate = random(shape, dt, 31), up = random(shape, dt, 32), g = random(shape, dt, 33);
    Tensor fused = value_or_die(ops::swiglu(gate, up));
    Tensor composed = value_or_die(ops::mul(value_or_die(ops::silu(gate)), up));
    CHECK(max_abs_diff(fused, composed) <= tolerance(dt, 4));
    // The composed backward: d up = g · silu(gate); d gate = silu'(gate) · (g · up).
    auto grads = value_or_die(ops::swiglu_backward(g, gate, up));
    auto mul_grads = value_or_die(ops::mul_backward(g, value_or_die(ops::silu(gate)), up));
    Tensor grad_gate = value_or_die(ops::silu_backward(mul_grads.grad_a, gate));
    CHECK(max_abs_diff(grads.grad_up, mul_grads.grad_b) <= tolerance(dt, 4));
    CHECK(max_abs_diff(grads.grad_gate, grad_gate) <= tolerance(dt, 4));
  }
  // The same through autograd: one fused tape entry against two.
  autograd::current_tape().clear();
  autograd::Variable gate(random({3, 4}, DType::kF64, 41), true), up(random({3, 4}, DType::kF64, 42), true);
  auto y1 = value_or_die(autograd::swiglu(gate, up));
  REQUIRE(autograd::backward(y1, Tensor::full({3, 4}, 1.0, DType::kF64)).ok());
  const Tensor gg1 = gate.grad(), gu1 = up.grad();
  gate.zero_grad();
  up.zero_grad();
  auto y2 = value_or_die(autograd::mul(value_or_die(autograd::silu(gate)), up));
  REQUIRE(autograd::backward(y2, Tensor::full({3, 4}, 1.0, DType::kF64)).ok());
  CHECK(max_abs_diff(gg1, gate.grad()) <= 1e-14);
  CHECK(max_abs_diff(gu1, up.grad()) <= 1e-14);
}

TEST_CASE("activation: bad arguments are errors naming the op and shapes") {
  Tensor a = Tensor::zeros({2, 3});
  check_error(ops::sigmoid(Tensor::zeros({2}, DType::kI64)), {"sigmoid", "i64[2]", "f32 or f64"});
  check_error(ops::silu(Tensor()), {"silu", "undefined"});
  check_error(ops::swiglu(a, Tensor::zeros({3, 2})), {"swiglu", "shapes differ", "f32[2, 3]", "f32[3, 2]"});
  check_error(ops::swiglu(a, Tensor::zeros({2, 3}, DType::kF64)), {"swiglu", "differ in dtype"});
  check_error(ops::silu_backward(Tensor::zeros({3}), a), {"silu_backward", "grad_out is f32[3]", "x is f32[2, 3]"});
  check_error(ops::sigmoid_backward(a, Tensor::zeros({2, 3}, DType::kF64)), {"sigmoid_backward", "y is f64[2, 3]"});
  check_error(ops::swiglu_backward(a, a, Tensor::zeros({2})), {"swiglu_backward", "up is f32[2]"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: sigmoid, silu and swiglu") {
  autograd::Variable a(random({3, 5}, DType::kF64, 51), true, "a");
  autograd::Variable b(random({3, 5}, DType::kF64, 52), true, "b");
  for (int which = 0; which < 3; ++which) {
    auto fn = [which](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
      if (which == 0) return autograd::sigmoid(in[0]);
      if (which == 1) return autograd::silu(in[0]);
      return autograd::swiglu(in[0], in[1]);
    };
    Status s = autograd::gradcheck(fn, {a, b});
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

}  // TEST_SUITE("gradcheck")

// RoPE: against the complex-number formula, inverse by rope_backward, relative positions, the
// position offset of a KV cache, gradcheck, errors. Shape letters: B, T, H, hd (see ops/rope.h).
#include <doctest/doctest.h>

#include <complex>

#include "autograd/gradcheck.h"
#include "autograd/rope.h"
#include "ops/rope.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

namespace {

// Pair (i, i + hd/2) is the complex number z = x_i + i·x_{i+hd/2}; RoPE multiplies it by e^{i·p·f_i}.
std::vector<double> naive_rope(const Tensor& x, int64_t offset, double theta) {
  const int64_t b = x.size(0), t = x.size(1), h = x.size(2), hd = x.size(3), half = hd / 2;
  const std::vector<double> xv = x.to_vector<double>();
  std::vector<double> y(xv.size());
  for (int64_t bi = 0; bi < b; ++bi) {
    for (int64_t p = 0; p < t; ++p) {
      for (int64_t hi = 0; hi < h; ++hi) {
        const int64_t base = ((bi * t + p) * h + hi) * hd;
        for (int64_t i = 0; i < half; ++i) {
          const double angle = double(offset + p) / std::pow(theta, 2.0 * i / hd);
          const std::complex<double> z(xv[base + i], xv[base + i + half]);
          const std::complex<double> r = z * std::polar(1.0, angle);
          y[base + i] = r.real();
          y[base + i + half] = r.imag();
        }
      }
    }
  }
  return y;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("rope matches the complex-number formula (f32, f64, offsets, unit sizes)") {
  const std::vector<Shape> shapes = {{1, 1, 1, 2}, {2, 3, 2, 4}, {1, 5, 3, 6}, {1, 40, 1, 64}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Shape& shape : shapes) {
      for (int64_t offset : {0, 7, 1000}) {
        for (double theta : {10000.0, 500.0}) {
          Tensor x = random(shape, dt, seed++);
          Tensor y = value_or_die(ops::rope(x, offset, theta));
          REQUIRE(y.shape() == shape);
          CHECK(max_abs_diff(y, naive_rope(x, offset, theta)) <= (dt == DType::kF64 ? 1e-12 : 2e-6 * 4));
        }
      }
    }
  }
}

TEST_CASE("rope at position 0 is the identity; rope_backward inverts rope") {
  for (DType dt : {DType::kF32, DType::kF64}) {
    Tensor x = random({2, 1, 3, 8}, dt, 11);
    CHECK(max_abs_diff(value_or_die(ops::rope(x, 0, 10000.0)), x) == 0.0);
    Tensor x2 = random({2, 9, 3, 8}, dt, 12);
    Tensor back = value_or_die(ops::rope_backward(value_or_die(ops::rope(x2, 5, 10000.0)), 5, 10000.0));
    CHECK(max_abs_diff(back, x2) <= (dt == DType::kF64 ? 1e-12 : 1e-5));
  }
}

TEST_CASE("rope: q·k after rotation depends only on the distance between positions") {
  // One head, one query row and one key row; shift both positions by 13.
  Tensor q = random({1, 1, 1, 16}, DType::kF64, 21), k = random({1, 1, 1, 16}, DType::kF64, 22);
  auto dot = [&](int64_t pq, int64_t pk) {
    const auto a = value_or_die(ops::rope(q, pq, 10000.0)).to_vector<double>();
    const auto b = value_or_die(ops::rope(k, pk, 10000.0)).to_vector<double>();
    double s = 0.0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  };
  CHECK(dot(9, 4) == doctest::Approx(dot(22, 17)).epsilon(1e-12));
  CHECK(dot(9, 4) != doctest::Approx(dot(9, 5)).epsilon(1e-6));
}

TEST_CASE("rope of a suffix with position_offset equals the suffix of rope (the KV-cache case)") {
  Tensor x = random({2, 7, 2, 6}, DType::kF32, 31);
  Tensor full = value_or_die(ops::rope(x, 0, 10000.0));
  Tensor tail = value_or_die(ops::rope(value_or_die(x.slice(1, 4, 7)), 4, 10000.0));
  CHECK(max_abs_diff(tail, value_or_die(full.slice(1, 4, 7))) == 0.0);
}

TEST_CASE("rope: bad arguments are errors naming the op and shapes") {
  check_error(ops::rope(Tensor::zeros({1, 2, 3, 5}), 0, 10000.0), {"rope", "head dim must be even", "f32[1, 2, 3, 5]"});
  check_error(ops::rope_backward(Tensor::zeros({1, 2, 3, 5}), 0, 10000.0), {"rope_backward", "even"});
  check_error(ops::rope(Tensor::zeros({2, 3, 4}), 0, 10000.0), {"rope", "f32[2, 3, 4]", "4 dims"});
  check_error(ops::rope(Tensor::zeros({1, 2, 3, 4}), -1, 10000.0), {"rope", "position_offset"});
  check_error(ops::rope(Tensor::zeros({1, 2, 3, 4}), 0, 0.0), {"rope", "theta"});
  check_error(ops::rope(Tensor::zeros({1, 2, 3, 4}, DType::kI32), 0, 10000.0), {"rope", "f32 or f64"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: rope with and without a position offset") {
  using autograd::Variable;
  Variable x(random({2, 3, 2, 4}, DType::kF64, 41), true, "x");
  for (int64_t offset : {0, 11}) {
    auto fn = [offset](const std::vector<Variable>& in) { return autograd::rope(in[0], offset, 100.0); };
    Status s = autograd::gradcheck(fn, {x});
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

}  // TEST_SUITE("gradcheck")

// Top-k along the last dim: against a stable sort on random shapes, ties (lower index first),
// NaN ordering, the backward scatter, errors, gradcheck on inputs without near-ties.
// Shape letters: [...] leading dims (R rows), n searched dim, k kept.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/gradcheck.h"
#include "autograd/topk.h"
#include "ops/topk.h"
#include "tests/ops/dense_test_util.h"
#include "tests/ops/index_test_util.h"

using namespace mone;
using namespace mone::dense_test;
using namespace mone::index_test;

TEST_SUITE("unit") {

TEST_CASE("topk matches a stable descending sort on odd shapes, k = 1 and k = n") {
  struct Case { Shape shape; int64_t k; };
  const std::vector<Case> cases = {{{1}, 1}, {{7}, 3}, {{7}, 7}, {{3, 5}, 1}, {{2, 3, 9}, 4}, {{4, 1}, 1}, {{300, 64}, 8}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Case& c : cases) {
      Tensor x = random(c.shape, dt, seed++);
      // Rounded to a coarse grid so rows hold ties (0.5 steps of N(0,1) values).
      std::vector<double> xv = x.to_vector<double>();
      for (double& v : xv) v = std::round(v * 2.0) / 2.0;
      x = value_or_die(value_or_die(Tensor::from_vector<double>(xv, c.shape)).to(dt));
      const int64_t n = c.shape.back(), rows = x.numel() / n;
      std::vector<double> values;
      std::vector<int64_t> indices;
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<int64_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t b) { return xv[r * n + a] > xv[r * n + b]; });
        for (int64_t i = 0; i < c.k; ++i) {
          values.push_back(xv[r * n + order[i]]);
          indices.push_back(order[i]);
        }
      }
      auto res = value_or_die(ops::topk(x, c.k));
      Shape out_shape = c.shape;
      out_shape.back() = c.k;
      CHECK(res.values.shape() == out_shape);
      CHECK(res.indices.dtype() == DType::kI64);
      CHECK(max_abs_diff(res.values, values) == 0.0);
      CHECK(res.indices.to_vector<int64_t>() == indices);
    }
  }
}

TEST_CASE("topk breaks ties by the lower index and ranks NaN above every number") {
  Tensor x = value_or_die(Tensor::from_vector<float>({1, 3, 3, 2, 3, -1}, {6}));
  auto r3 = value_or_die(ops::topk(x, 3));
  CHECK(r3.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 4});
  auto r5 = value_or_die(ops::topk(x, 5));
  CHECK(r5.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 4, 3, 0});
  CHECK(r5.values.to_vector<double>() == std::vector<double>{3, 3, 3, 2, 1});
  Tensor all_equal = Tensor::full({2, 4}, 0.5);
  CHECK(value_or_die(ops::topk(all_equal, 2)).indices.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0, 1});
  Tensor with_nan = value_or_die(Tensor::from_vector<double>({1.0, NAN, 5.0, NAN}, {4}));
  auto rn = value_or_die(ops::topk(with_nan, 3));
  CHECK(rn.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 3, 2});
}

TEST_CASE("topk_backward scatters into the selected positions only") {
  Tensor gv = value_or_die(Tensor::from_vector<double>({10, 20, -30, 40}, {2, 2}));
  Tensor idx = index_tensor({3, 0, 1, 2}, {2, 2});
  Tensor gx = value_or_die(ops::topk_backward(gv, idx, 4));
  CHECK(gx.shape() == Shape{2, 4});
  CHECK(gx.to_vector<double>() == std::vector<double>{20, 0, 0, 10, 0, -30, 40, 0});
  // i32 indices and f32 gradients work the same.
  Tensor gx32 = value_or_die(
      ops::topk_backward(value_or_die(gv.to(DType::kF32)), value_or_die(idx.to(DType::kI32)), 5));
  CHECK(gx32.to_vector<double>() == std::vector<double>{20, 0, 0, 10, 0, 0, -30, 40, 0, 0});
}

TEST_CASE("topk: bad arguments are errors naming the op, k, n and indices") {
  Tensor x = Tensor::zeros({2, 4});
  check_error(ops::topk(x, 5), {"topk", "k = 5", "n = 4", "f32[2, 4]"});
  check_error(ops::topk(x, 0), {"topk", "k = 0"});
  check_error(ops::topk(Tensor::zeros({}), 1), {"topk", "f32[]"});
  check_error(ops::topk(Tensor::zeros({3}, DType::kI64), 1), {"topk", "i64[3]"});
  Tensor g = Tensor::zeros({2, 2});
  check_error(ops::topk_backward(g, index_tensor({0, 1, 4, 2}, {2, 2}), 4), {"topk_backward", "indices[1, 0] = 4", "n = 4"});
  check_error(ops::topk_backward(g, index_tensor({0, 1}, {1, 2}), 4), {"topk_backward", "indices is i64[1, 2]"});
  check_error(ops::topk_backward(g, index_tensor({0, 1, 0, 1}, {2, 2}), 1), {"topk_backward", "n = 1", "k = 2"});
  check_error(ops::topk_backward(g, Tensor::zeros({2, 2}), 4), {"topk_backward", "i32 or i64"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: topk on inputs with no ties within the finite-difference step") {
  // A shuffled grid with spacing 0.1 plus small noise: no two values within 1e-6 of each other,
  // so the selection never flips under the ±eps perturbation.
  const int64_t rows = 3, n = 7;
  std::vector<double> xv(rows * n);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) xv[r * n + j] = 0.1 * ((j * 3 + r) % n) + 0.01 * std::sin(double(r * n + j));
  autograd::Variable x(value_or_die(Tensor::from_vector<double>(xv, {rows, n})), true, "x");
  for (int64_t k : {1, 3, 7}) {
    auto fn = [k](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
      MONE_ASSIGN_OR_RETURN(auto r, autograd::topk(in[0], k));
      return r.values;
    };
    Status s = autograd::gradcheck(fn, {x});
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

}  // TEST_SUITE("gradcheck")

// Gather and scatter_add along a dim: against naive loops for ranks 1-3, every dim (negative
// too), indices smaller than x in the other dims, repeated indices; each backward is the other
// op; errors; gradcheck.
// Shape letters: r rank, `dim` the indexed dimension.
#include <doctest/doctest.h>

#include "autograd/gather.h"
#include "autograd/gradcheck.h"
#include "ops/gather.h"
#include "tests/ops/dense_test_util.h"
#include "tests/ops/index_test_util.h"

using namespace mone;
using namespace mone::dense_test;
using namespace mone::index_test;

namespace {

// Row-major position of `coords` in `shape`.
int64_t offset_of(const std::vector<int64_t>& coords, const Shape& shape) {
  int64_t off = 0;
  for (size_t d = 0; d < shape.size(); ++d) off = off * shape[d] + coords[d];
  return off;
}

std::vector<int64_t> coords_of(int64_t p, const Shape& shape) {
  std::vector<int64_t> c(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    c[d] = p % shape[d];
    p /= shape[d];
  }
  return c;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("gather and scatter_add match naive loops for every dim of ranks 1 to 3") {
  struct Case { Shape x, index; int64_t dim; };
  const std::vector<Case> cases = {
      {{5}, {3}, 0},          {{1}, {4}, 0},          {{4, 6}, {4, 3}, 1},   {{4, 6}, {2, 6}, 0},
      {{4, 6}, {3, 2}, -1},   {{3, 4, 5}, {2, 7, 3}, 1}, {{3, 4, 5}, {3, 4, 2}, 2}, {{3, 4, 5}, {6, 1, 5}, -3},
      {{64, 40}, {64, 900}, 1}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (DType it : {DType::kI32, DType::kI64}) {
      for (const Case& c : cases) {
        const int64_t rank = static_cast<int64_t>(c.x.size()), dim = c.dim < 0 ? c.dim + rank : c.dim;
        const int64_t n = shape_numel(c.index);
        const std::vector<int64_t> idv = random_ids(n, c.x[dim], seed++);
        Tensor index = index_tensor(idv, c.index, it);
        Tensor x = random(c.x, dt, seed++), src = random(c.index, dt, seed++);
        const std::vector<double> xv = x.to_vector<double>(), sv = src.to_vector<double>();
        std::vector<double> gathered(n), scattered(x.numel(), 0.0);
        for (int64_t p = 0; p < n; ++p) {
          std::vector<int64_t> at = coords_of(p, c.index);
          at[dim] = idv[p];
          gathered[p] = xv[offset_of(at, c.x)];
          scattered[offset_of(at, c.x)] += sv[p];
        }
        Tensor g = value_or_die(ops::gather(x, c.dim, index));
        CHECK(g.shape() == c.index);
        CHECK(max_abs_diff(g, gathered) == 0.0);
        Tensor s = value_or_die(ops::scatter_add(c.x, c.dim, index, src));
        CHECK(s.shape() == c.x);
        CHECK(max_abs_diff(s, scattered) <= tolerance(dt, n));
        // Each op's backward is the other op.
        CHECK(max_abs_diff(value_or_die(ops::gather_backward(src, c.x, c.dim, index)), scattered) <= tolerance(dt, n));
        CHECK(max_abs_diff(value_or_die(ops::scatter_add_backward(x, c.dim, index)), gathered) == 0.0);
      }
    }
  }
}

TEST_CASE("scatter_add accumulates repeated indices and leaves the rest zero") {
  Tensor src = value_or_die(Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}));
  Tensor index = index_tensor({2, 2, 0, 1, 1, 1}, {2, 3});
  Tensor out = value_or_die(ops::scatter_add({2, 4}, 1, index, src));
  CHECK(out.to_vector<double>() == std::vector<double>{3, 0, 3, 0, 0, 15, 0, 0});
  Tensor by_rows = value_or_die(ops::scatter_add({3, 3}, 0, index, src));
  CHECK(by_rows.to_vector<double>() == std::vector<double>{0, 0, 3, 4, 5, 6, 1, 2, 0});
}

TEST_CASE("gather: bad arguments are errors naming the op, position and value") {
  Tensor x = Tensor::zeros({3, 4});
  check_error(ops::gather(x, 1, index_tensor({0, 1, 4, 2}, {2, 2})), {"gather", "index[1, 0] = 4", "[0, 4)", "dim 1"});
  check_error(ops::gather(x, 0, index_tensor({0, -1}, {1, 2}, DType::kI32)), {"gather", "index[0, 1] = -1"});
  check_error(ops::gather(x, 2, index_tensor({0}, {1, 1})), {"gather", "dim 2", "rank 2"});
  check_error(ops::gather(x, -3, index_tensor({0}, {1, 1})), {"dim -3"});
  check_error(ops::gather(x, 1, index_tensor({0, 0}, {2})), {"gather", "one rank", "x is [3, 4]", "i64[2]"});
  check_error(ops::gather(x, 1, index_tensor({0, 0, 0, 0}, {4, 1})), {"gather", "larger than x in dim 0"});
  check_error(ops::gather(x, 1, Tensor::zeros({1, 1})), {"gather", "i32 or i64"});
  check_error(ops::gather(Tensor::zeros({}), 0, index_tensor({0}, {})), {"gather", "rank >= 1", "x is []"});
  Tensor index = index_tensor({0, 3}, {1, 2});
  check_error(ops::scatter_add({3, 4}, 1, index, Tensor::zeros({2, 1})), {"scatter_add", "src is f32[2, 1]"});
  check_error(ops::scatter_add({3, 3}, 1, index, Tensor::zeros({1, 2})), {"scatter_add", "index[0, 1] = 3", "[0, 3)"});
  check_error(ops::scatter_add({3, 4}, 1, index, Tensor::zeros({1, 2}, DType::kI64)), {"scatter_add", "i64[1, 2]"});
  check_error(ops::gather_backward(Tensor::zeros({1, 2}), {3, 2}, 1, index), {"gather_backward", "index[0, 1] = 3"});
  check_error(ops::scatter_add_backward(Tensor::zeros({3, 3}), 1, index), {"scatter_add_backward", "= 3"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: gather and scatter_add along each dim, with repeated indices") {
  autograd::Variable x(random({3, 4}, DType::kF64, 41), true, "x");
  autograd::Variable src(random({2, 3}, DType::kF64, 42), true, "src");
  // Along dim 0 the values address x's 3 rows; along dim 1 its 4 columns.
  const Tensor by_dim[2] = {index_tensor({2, 2, 0, 1, 2, 1}, {2, 3}), index_tensor({3, 3, 0, 1, 2, 1}, {2, 3})};
  for (int64_t dim : {0, 1}) {
    const Tensor& index = by_dim[dim];
    auto g = [&index, dim](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
      return autograd::gather(in[0], dim, index);
    };
    auto s = [&index, dim](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
      return autograd::scatter_add({3, 4}, dim, index, in[0]);
    };
    Status sg = autograd::gradcheck(g, {x});
    CHECK_MESSAGE(sg.ok(), sg.message());
    Status ss = autograd::gradcheck(s, {src});
    CHECK_MESSAGE(ss.ok(), ss.message());
  }
}

}  // TEST_SUITE("gradcheck")

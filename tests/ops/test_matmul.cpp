// matmul: every form against naive f64 loops, strided views, empty sizes, gradchecks, errors.
// Shape letters: M, N output rows and columns, K contracted size, Bt batch.
#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "autograd/matmul.h"
#include "ops/matmul.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

namespace {

// Naive batched op(a) · op(b) in f64; a holds Bt matrices [M, K] (or [K, M]), b [K, N] (or [N, K]).
std::vector<double> naive_matmul(const Tensor& a, const Tensor& b, int64_t batch, int64_t m, int64_t n, int64_t k,
                                 bool ta, bool tb) {
  const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  std::vector<double> c(batch * m * n, 0.0);
  for (int64_t p = 0; p < batch; ++p) {
    const double* A = av.data() + p * m * k;
    const double* B = bv.data() + p * k * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double s = 0.0;
        for (int64_t x = 0; x < k; ++x) s += (ta ? A[x * m + i] : A[i * k + x]) * (tb ? B[j * k + x] : B[x * n + j]);
        c[(p * m + i) * n + j] = s;
      }
    }
  }
  return c;
}

// The [cols, rows] row-major transpose of a [rows, cols] row-major matrix.
std::vector<double> transposed(const std::vector<double>& v, int64_t rows, int64_t cols) {
  std::vector<double> t(v.size());
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) t[j * rows + i] = v[i * cols + j];
  }
  return t;
}

Shape stored(int64_t rows, int64_t cols, bool trans) { return trans ? Shape{cols, rows} : Shape{rows, cols}; }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("matmul: 2-D with every transpose matches naive loops (f32, f64, odd and unit sizes)") {
  const std::vector<std::array<int64_t, 3>> sizes = {{1, 1, 1}, {3, 5, 7}, {17, 1, 4}, {1, 9, 1}, {33, 65, 17}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (auto [m, k, n] : sizes) {
      for (int t = 0; t < 4; ++t) {
        const bool ta = t & 1, tb = t & 2;
        Tensor a = random(stored(m, k, ta), dt, seed++), b = random(stored(k, n, tb), dt, seed++);
        Tensor c = value_or_die(ops::matmul(a, b, ta, tb));
        REQUIRE(c.shape() == Shape{m, n});
        CHECK(c.dtype() == dt);
        CHECK(max_abs_diff(c, naive_matmul(a, b, 1, m, n, k, ta, tb)) <= tolerance(dt, k));
      }
    }
  }
}

TEST_CASE("matmul: batched 3-D and the rows form a [..., K] match naive loops") {
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const int64_t bt = 3, m = 5, k = 4, n = 6;
      Shape sa = stored(m, k, ta), sb = stored(k, n, tb);
      Tensor a = random({bt, sa[0], sa[1]}, dt, 10 + t), b = random({bt, sb[0], sb[1]}, dt, 20 + t);
      Tensor c = value_or_die(ops::matmul(a, b, ta, tb));
      REQUIRE(c.shape() == Shape{bt, m, n});
      CHECK(max_abs_diff(c, naive_matmul(a, b, bt, m, n, k, ta, tb)) <= tolerance(dt, k));
    }
    // A batch of one keeps its batch dimension.
    Tensor a1 = random({1, 2, 3}, dt, 3), b1 = random({1, 3, 2}, dt, 4);
    CHECK(value_or_die(ops::matmul(a1, b1)).shape() == Shape{1, 2, 2});
    // Rows form: x [2, 3, K] against W [N, K] used transposed (the linear layer), and b [K, N] plain.
    Tensor x = random({2, 3, 7}, dt, 5), w = random({4, 7}, dt, 6), bw = random({7, 4}, dt, 7);
    Tensor y = value_or_die(ops::matmul(x, w, false, true));
    REQUIRE(y.shape() == Shape{2, 3, 4});
    CHECK(max_abs_diff(y, naive_matmul(x, w, 1, 6, 4, 7, false, true)) <= tolerance(dt, 7));
    Tensor y2 = value_or_die(ops::matmul(x, bw));
    CHECK(max_abs_diff(y2, naive_matmul(x, bw, 1, 6, 4, 7, false, false)) <= tolerance(dt, 7));
  }
}

TEST_CASE("matmul: strided views (transposes, column slices, permuted batches) give the contiguous result") {
  const DType dt = DType::kF64;
  Tensor a = random({6, 5}, dt, 31), b = random({5, 4}, dt, 32);
  const Tensor expect = value_or_die(ops::matmul(a, b));
  // A plain transpose view read as a transposed operand: (aᵀ)ᵀ.
  Tensor at = value_or_die(a.clone().transpose(0, 1));  // [5, 6] view of a [6, 5] copy
  Tensor at_contig = at.contiguous();                   // the same values stored [5, 6]
  CHECK(max_abs_diff(value_or_die(ops::matmul(at, b, true, false)), expect) <= 1e-12);
  CHECK(max_abs_diff(value_or_die(ops::matmul(value_or_die(at_contig.transpose(0, 1)), b)), expect) <= 1e-12);
  // A column slice: rows 9 apart instead of 5.
  Tensor wide = random({6, 9}, dt, 33);
  Tensor cols = value_or_die(wide.slice(1, 2, 7));
  REQUIRE_FALSE(cols.is_contiguous());
  CHECK(max_abs_diff(value_or_die(ops::matmul(cols, b)), value_or_die(ops::matmul(cols.contiguous(), b))) <= 1e-12);
  // Batched operand transposed in its last two dims, and a view with the batch dim moved (copied).
  Tensor a3 = random({3, 4, 5}, dt, 34), b3 = random({3, 5, 2}, dt, 35);
  Tensor a3t = value_or_die(value_or_die(a3.clone().transpose(1, 2)).contiguous().transpose(1, 2));  // a3's values
  CHECK(max_abs_diff(value_or_die(ops::matmul(a3t, b3)), value_or_die(ops::matmul(a3, b3))) <= 1e-12);
  Tensor perm = value_or_die(random({4, 3, 5}, dt, 36).transpose(0, 1));  // [3, 4, 5], batch stride 5
  CHECK(max_abs_diff(value_or_die(ops::matmul(perm, b3)), value_or_die(ops::matmul(perm.contiguous(), b3))) <= 1e-12);
  // Rows form on a non-contiguous x.
  Tensor x = value_or_die(random({3, 2, 5}, dt, 37).transpose(0, 1));  // [2, 3, 5]
  Tensor w = random({4, 5}, dt, 38);
  CHECK(max_abs_diff(value_or_die(ops::matmul(x, w, false, true)), value_or_die(ops::matmul(x.contiguous(), w, false, true))) <= 1e-12);
}

TEST_CASE("matmul: empty sizes give empty or zero outputs") {
  Tensor a = Tensor::zeros({3, 0}), b = Tensor::zeros({0, 4});
  Tensor c = value_or_die(ops::matmul(a, b));  // K = 0: an empty sum
  REQUIRE(c.shape() == Shape{3, 4});
  CHECK(c.to_vector<double>() == std::vector<double>(12, 0.0));
  Tensor e = value_or_die(ops::matmul(Tensor::zeros({0, 3}), random({3, 4}, DType::kF32, 4)));
  CHECK(e.shape() == Shape{0, 4});
  auto g = value_or_die(ops::matmul_backward(Tensor::zeros({3, 4}), a, b));
  CHECK(g.grad_a.shape() == Shape{3, 0});
  CHECK(g.grad_b.shape() == Shape{0, 4});
}

TEST_CASE("matmul_backward matches the transposed products, for every transpose") {
  const DType dt = DType::kF64;
  const int64_t m = 4, k = 3, n = 5;
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    Tensor a = random(stored(m, k, ta), dt, 40 + t), b = random(stored(k, n, tb), dt, 50 + t);
    Tensor g = random({m, n}, dt, 60 + t);
    auto grads = value_or_die(ops::matmul_backward(g, a, b, ta, tb));
    REQUIRE(grads.grad_a.shape() == a.shape());
    REQUIRE(grads.grad_b.shape() == b.shape());
    // grad op(a) = g · op(b)ᵀ [M, K] and grad op(b) = op(a)ᵀ · g [K, N], stored as a and b are.
    const std::vector<double> ga = naive_matmul(g, b, 1, m, k, n, false, !tb);
    const std::vector<double> gb = naive_matmul(a, g, 1, k, n, m, !ta, false);
    CHECK(max_abs_diff(grads.grad_a, ta ? transposed(ga, m, k) : ga) <= 1e-12);
    CHECK(max_abs_diff(grads.grad_b, tb ? transposed(gb, k, n) : gb) <= 1e-12);
  }
}

TEST_CASE("matmul: bad shapes and dtypes are errors naming the op and both shapes") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  check_error(ops::matmul(a, b), {"matmul", "inner sizes differ, 3 vs 4", "f32[2, 3]", "f32[4, 5]"});
  check_error(ops::matmul(a, b, false, true), {"matmul", "3 vs 5", "trans_b true"});
  check_error(ops::matmul(a, Tensor::zeros({3, 5}, DType::kF64)), {"matmul", "differ in dtype"});
  check_error(ops::matmul(Tensor::zeros({3}), Tensor::zeros({3, 2})), {"matmul", "f32[3]"});
  check_error(ops::matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 2})), {"batch sizes differ"});
  check_error(ops::matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 2}), true, false), {"trans_a needs a 2-D a"});
  check_error(ops::matmul(Tensor::zeros({2, 3}, DType::kI32), Tensor::zeros({3, 2}, DType::kI32)), {"expected f32 or f64"});
  check_error(ops::matmul_backward(Tensor::zeros({2, 4}), a, Tensor::zeros({3, 5})),
              {"matmul_backward", "grad_out", "expected shape [2, 5]"});
  check_error(ops::matmul_backward(Tensor::zeros({2, 5}), a, b), {"matmul_backward", "3 vs 4"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: matmul, every transpose, 2-D and batched") {
  using autograd::Variable;
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    Variable a(random(stored(3, 4, ta), DType::kF64, 70 + t), true, "a");
    Variable b(random(stored(4, 2, tb), DType::kF64, 80 + t), true, "b");
    auto fn = [ta, tb](const std::vector<Variable>& in) { return autograd::matmul(in[0], in[1], ta, tb); };
    Status s = autograd::gradcheck(fn, {a, b});
    CHECK_MESSAGE(s.ok(), s.message());
    Shape sa = stored(3, 2, ta), sb = stored(2, 3, tb);
    Variable a3(random({2, sa[0], sa[1]}, DType::kF64, 90 + t), true, "a3");
    Variable b3(random({2, sb[0], sb[1]}, DType::kF64, 95 + t), true, "b3");
    Status s3 = autograd::gradcheck(fn, {a3, b3});
    CHECK_MESSAGE(s3.ok(), s3.message());
  }
}

TEST_CASE("gradcheck: linear on x [B, T, in] and the rows form with a plain b") {
  using autograd::Variable;
  Variable x(random({2, 3, 4}, DType::kF64, 101), true, "x");
  Variable w(random({5, 4}, DType::kF64, 102), true, "w");
  Status s = autograd::gradcheck([](const std::vector<Variable>& in) { return autograd::linear(in[0], in[1]); }, {x, w});
  CHECK_MESSAGE(s.ok(), s.message());
  Variable b(random({4, 3}, DType::kF64, 103), true, "b");
  Status s2 = autograd::gradcheck([](const std::vector<Variable>& in) { return autograd::matmul(in[0], in[1]); }, {x, b});
  CHECK_MESSAGE(s2.ok(), s2.message());
}

}  // TEST_SUITE("gradcheck")

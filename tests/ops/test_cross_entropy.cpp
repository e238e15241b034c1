// Fused cross-entropy: forward and backward against a naive f64 loop and against the composition
// log_softmax + gather + mean, ignore_index, the all-ignored case, errors, gradcheck.
// Shape letters: N rows, V vocab.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/cross_entropy.h"
#include "autograd/elementwise.h"
#include "autograd/gather.h"
#include "autograd/gradcheck.h"
#include "autograd/reduce.h"
#include "autograd/softmax.h"
#include "autograd/tape.h"
#include "ops/cross_entropy.h"
#include "tests/ops/dense_test_util.h"
#include "tests/ops/index_test_util.h"

using namespace mone;
using namespace mone::dense_test;
using namespace mone::index_test;

namespace {

struct NaiveCe {
  double loss = 0.0;
  int64_t count = 0;
  std::vector<double> lse, grad;  // grad for grad_loss = 1
};

NaiveCe naive_cross_entropy(const Tensor& logits, const std::vector<int64_t>& t, int64_t ignore) {
  const int64_t N = logits.size(0), V = logits.size(1);
  const std::vector<double> x = logits.to_vector<double>();
  NaiveCe r;
  r.lse.resize(N);
  r.grad.assign(N * V, 0.0);
  for (int64_t i = 0; i < N; ++i) {
    double z = 0.0;
    for (int64_t v = 0; v < V; ++v) z += std::exp(x[i * V + v]);
    r.lse[i] = std::log(z);
    if (t[i] == ignore) continue;
    r.loss += -std::log(std::exp(x[i * V + t[i]]) / z);
    ++r.count;
  }
  if (r.count > 0) r.loss /= r.count;
  for (int64_t i = 0; i < N; ++i) {
    if (t[i] == ignore) continue;
    for (int64_t v = 0; v < V; ++v) {
      r.grad[i * V + v] = (std::exp(x[i * V + v]) / std::exp(r.lse[i]) - (v == t[i] ? 1.0 : 0.0)) / r.count;
    }
  }
  return r;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("cross_entropy matches a naive f64 loop with ignored rows, i32 and i64 targets") {
  struct Case { int64_t N, V, ignore; };
  const std::vector<Case> cases = {{1, 1, -1}, {1, 5, -1}, {6, 7, -1}, {9, 3, 2}, {33, 129, -100}, {200, 300, -1}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (DType it : {DType::kI32, DType::kI64}) {
      for (const Case& c : cases) {
        Tensor logits = random({c.N, c.V}, dt, seed++);
        std::vector<int64_t> t = random_ids(c.N, c.V, seed++);
        if (c.ignore < 0 && c.N > 2) t[1] = c.ignore;  // one ignored row
        const NaiveCe ref = naive_cross_entropy(logits, t, c.ignore);
        auto fwd = value_or_die(ops::cross_entropy(logits, index_tensor(t, {c.N}, it), c.ignore));
        CHECK(fwd.loss.dim() == 0);
        CHECK(fwd.count == ref.count);
        CHECK(std::abs(fwd.loss.item() - ref.loss) <= tolerance(dt, c.V));
        CHECK(max_abs_diff(fwd.lse, ref.lse) <= tolerance(dt, c.V));
        Tensor grad_loss = value_or_die(Tensor::scalar<double>(1.0).to(dt));
        Tensor gl = value_or_die(ops::cross_entropy_backward(grad_loss, logits, index_tensor(t, {c.N}, it), fwd.lse,
                                                             c.ignore, fwd.count));
        CHECK(max_abs_diff(gl, ref.grad) <= tolerance(dt, c.V));
      }
    }
  }
}

TEST_CASE("cross_entropy_backward scales by grad_loss and zeroes ignored rows") {
  Tensor logits = random({4, 5}, DType::kF64, 11);
  const std::vector<int64_t> t = {3, -1, 0, 4};
  const NaiveCe ref = naive_cross_entropy(logits, t, -1);
  auto fwd = value_or_die(ops::cross_entropy(logits, index_tensor(t, {4}), -1));
  CHECK(fwd.count == 3);
  Tensor gl = value_or_die(
      ops::cross_entropy_backward(Tensor::scalar<double>(-2.5), logits, index_tensor(t, {4}), fwd.lse, -1, 3));
  const auto g = gl.to_vector<double>();
  for (int64_t j = 0; j < 20; ++j) CHECK(g[j] == doctest::Approx(-2.5 * ref.grad[j]).epsilon(1e-12));
  for (int64_t v = 5; v < 10; ++v) CHECK(g[v] == 0.0);  // row 1 is ignored
  // Each counted row's gradient sums to zero (softmax sums to 1, the one-hot to 1).
  double row0 = 0.0;
  for (int64_t v = 0; v < 5; ++v) row0 += g[v];
  CHECK(std::abs(row0) <= 1e-12);
}

TEST_CASE("cross_entropy with every target ignored: loss 0, count 0, zero gradient") {
  Tensor logits = random({3, 4}, DType::kF32, 12);
  Tensor t = index_tensor({7, 7, 7}, {3}, DType::kI32);  // 7 >= V, but it is the ignore_index
  auto fwd = value_or_die(ops::cross_entropy(logits, t, 7));
  CHECK(fwd.count == 0);
  CHECK(fwd.loss.item() == 0.0);
  Tensor gl = value_or_die(ops::cross_entropy_backward(Tensor::scalar<float>(1.f), logits, t, fwd.lse, 7, 0));
  CHECK(gl.to_vector<double>() == std::vector<double>(12, 0.0));
}

TEST_CASE("cross_entropy equals -mean(gather(log_softmax(logits), targets)), loss and gradient") {
  autograd::current_tape().clear();
  const int64_t N = 6, V = 11;
  autograd::Variable logits(random({N, V}, DType::kF64, 13), true, "logits");
  const std::vector<int64_t> t = random_ids(N, V, 14);
  auto fused = value_or_die(autograd::cross_entropy(logits, index_tensor(t, {N})));
  REQUIRE(autograd::backward(fused).ok());
  const Tensor fused_grad = logits.grad();
  logits.zero_grad();
  auto lp = value_or_die(autograd::log_softmax(logits));
  auto picked = value_or_die(autograd::gather(lp, 1, index_tensor(t, {N, 1})));
  auto composed = value_or_die(autograd::scale(value_or_die(autograd::mean(picked)), -1.0));
  REQUIRE(autograd::backward(composed).ok());
  CHECK(std::abs(fused.value().item() - composed.value().item()) <= 1e-13);
  CHECK(max_abs_diff(fused_grad, logits.grad()) <= 1e-14);
}

TEST_CASE("cross_entropy: bad arguments are errors naming the op, shapes, row and id") {
  Tensor logits = Tensor::zeros({3, 5});
  check_error(ops::cross_entropy(logits, index_tensor({0, 5, 1}, {3}), -1),
              {"cross_entropy", "targets[1] = 5", "[0, V = 5)", "f32[3, 5]"});
  check_error(ops::cross_entropy(logits, index_tensor({0, 1, -2}, {3}, DType::kI32), -1), {"targets[2] = -2"});
  check_error(ops::cross_entropy(logits, index_tensor({0, 1}, {2}), -1), {"cross_entropy", "targets is i64[2]"});
  check_error(ops::cross_entropy(Tensor::zeros({15}), index_tensor({0}, {1}), -1), {"cross_entropy", "logits is f32[15]"});
  check_error(ops::cross_entropy(Tensor::zeros({2, 0}), index_tensor({0, 0}, {2}), -1), {"V >= 1"});
  check_error(ops::cross_entropy(logits, Tensor::zeros({3}), -1), {"cross_entropy", "targets is f32[3]", "i32 or i64"});
  check_error(ops::cross_entropy(Tensor::zeros({3, 5}, DType::kI64), index_tensor({0, 0, 0}, {3}), -1),
              {"logits is i64[3, 5]"});
  Tensor t = index_tensor({0, 1, 2}, {3});
  Tensor lse = Tensor::zeros({3}), one = Tensor::scalar<float>(1.f);
  check_error(ops::cross_entropy_backward(one, logits, t, Tensor::zeros({4}), -1, 3),
              {"cross_entropy_backward", "lse is f32[4]", "[3]"});
  check_error(ops::cross_entropy_backward(Tensor::zeros({1}), logits, t, lse, -1, 3), {"grad_loss is f32[1]"});
  check_error(ops::cross_entropy_backward(Tensor::scalar<double>(1.0), logits, t, lse, -1, 3), {"differ in dtype"});
  check_error(ops::cross_entropy_backward(one, logits, t, lse, -1, 4), {"count 4", "N = 3"});
  check_error(ops::cross_entropy_backward(one, logits, index_tensor({0, 9, 1}, {3}), lse, -1, 3), {"targets[1] = 9"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: cross_entropy with an ignored row") {
  autograd::Variable logits(random({5, 4}, DType::kF64, 31), true, "logits");
  const Tensor t = index_tensor({2, 0, -1, 3, 3}, {5});
  auto fn = [&t](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
    return autograd::cross_entropy(in[0], t, -1);
  };
  Status s = autograd::gradcheck(fn, {logits});
  CHECK_MESSAGE(s.ok(), s.message());
}

}  // TEST_SUITE("gradcheck")

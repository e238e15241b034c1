// Tests of ops/grouped_matmul.h and autograd::grouped_matmul: one GEMM per expert segment,
// stacked and listed weights, empty segments, gradients, and the error paths.
#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "autograd/moe.h"
#include "autograd/tape.h"
#include "ops/grouped_matmul.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::moe_test;

namespace {

Tensor offsets_of(std::vector<int64_t> v) { return value_or_die(Tensor::from_vector(v, {static_cast<int64_t>(v.size())})); }

std::vector<Tensor> unstacked(const Tensor& w) {
  std::vector<Tensor> parts;
  for (int64_t e = 0; e < w.size(0); ++e) {
    parts.push_back(value_or_die(value_or_die(w.slice(0, e, e + 1)).reshape({w.size(1), w.size(2)})).clone());
  }
  return parts;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("grouped_matmul: each segment is multiplied by its own expert, empty segments included") {
  Generator gen(1);
  for (DType dtype : {DType::kF64, DType::kF32}) {
    const double tol = dtype == DType::kF64 ? 1e-13 : 1e-5;
    const Tensor x = randn({7, 5}, dtype, gen), w = randn({4, 3, 5}, dtype, gen);
    const Tensor offsets = offsets_of({0, 2, 2, 6, 7});  // expert 1 is empty
    const Tensor y = value_or_die(ops::grouped_matmul(x, w, offsets));
    const std::vector<int64_t> off{0, 2, 2, 6, 7};
    for (int64_t e = 0; e < 4; ++e) {
      for (int64_t r = off[e]; r < off[e + 1]; ++r) {
        for (int64_t o = 0; o < 3; ++o) {
          double want = 0;
          for (int64_t i = 0; i < 5; ++i) want += read_as_double(w, (e * 3 + o) * 5 + i) * read_as_double(x, r * 5 + i);
          CHECK(std::abs(read_as_double(y, r * 3 + o) - want) < tol * (1 + std::abs(want)));
        }
      }
    }
    // The listed weights give the same numbers, forward and backward.
    const std::vector<Tensor> parts = unstacked(w);
    CHECK(max_rel_diff(value_or_die(ops::grouped_matmul(x, parts, offsets)), y) == 0.0);
    const Tensor gy = randn({7, 3}, dtype, gen);
    const auto gs = value_or_die(ops::grouped_matmul_backward(gy, x, w, offsets));
    const auto gl = value_or_die(ops::grouped_matmul_backward(gy, x, parts, offsets));
    CHECK(max_rel_diff(gs.grad_x, gl.grad_x) == 0.0);
    for (int64_t e = 0; e < 4; ++e) CHECK(max_rel_diff(unstacked(gs.grad_w)[e], gl.grad_w[e]) == 0.0);
    CHECK(min_abs(gl.grad_w[1]) == 0.0);  // the empty expert gets a zero gradient
    CHECK(max_rel_diff(gl.grad_w[1], Tensor::zeros({3, 5}, dtype)) == 0.0);
  }
}

TEST_CASE("grouped_matmul: bad offsets and weights are Status errors naming the op") {
  Generator gen(2);
  const Tensor x = randn({4, 3}, DType::kF32, gen), w = randn({2, 5, 3}, DType::kF32, gen);
  Status s = ops::grouped_matmul(x, w, offsets_of({0, 3, 5})).status();
  CHECK(mentions(s, "grouped_matmul"));
  CHECK(mentions(s, "offsets must rise from 0"));
  CHECK(mentions(ops::grouped_matmul(x, w, offsets_of({0, 3, 2})).status(), "offsets must rise"));
  CHECK(mentions(ops::grouped_matmul(x, w, offsets_of({0, 4})).status(), "offsets"));
  CHECK(mentions(ops::grouped_matmul(x, randn({2, 5, 4}, DType::kF32, gen), offsets_of({0, 2, 4})).status(),
                 "do not match x_perm"));
  CHECK(mentions(ops::grouped_matmul(x, std::vector<Tensor>{randn({5, 3}, DType::kF32, gen), randn({5, 2}, DType::kF32, gen)},
                                     offsets_of({0, 2, 4}))
                     .status(),
                 "w[1]"));
  CHECK(mentions(ops::grouped_matmul(x, std::vector<Tensor>{}, offsets_of({0})).status(), "E = 0"));
  CHECK(mentions(ops::grouped_matmul_backward(Tensor::zeros({4, 4}), x, w, offsets_of({0, 2, 4})).status(),
                 "grad_y"));
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: grouped_matmul over listed expert weights") {
  using namespace mone::autograd;
  Generator gen(3);
  const Tensor offsets = offsets_of({0, 3, 3, 5});
  std::vector<Variable> vars{param(randn({5, 4}, DType::kF64, gen), "x_perm")};
  for (int e = 0; e < 3; ++e) vars.push_back(param(randn({2, 4}, DType::kF64, gen), "w"));
  const Status s = gradcheck(
      [&](const std::vector<Variable>& v) {
        return grouped_matmul(v[0], std::vector<Variable>(v.begin() + 1, v.end()), offsets);
      },
      vars);
  CHECK_MESSAGE(s.ok(), s.message());
}

}  // TEST_SUITE("gradcheck")

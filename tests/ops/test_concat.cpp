#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "autograd/shape.h"
#include "core/rng.h"
#include "ops/concat.h"

using namespace mone;

TEST_SUITE("unit") {

TEST_CASE("concat along every dim matches index arithmetic and skips undefined parts") {
  Generator gen(3);
  for (int64_t dim = 0; dim < 3; ++dim) {
    Shape sa = {2, 3, 5}, sb = {2, 3, 5};
    sb[dim] = dim == 1 ? 1 : 4;  // odd and unit sizes
    Tensor a = randn(sa, DType::kF64, gen), b = randn(sb, DType::kF64, gen);
    Tensor c = value_or_die(ops::concat({a, Tensor(), b}, dim));
    Shape sc = sa;
    sc[dim] = sa[dim] + sb[dim];
    REQUIRE(c.shape() == sc);
    for (int64_t i = 0; i < sc[0]; ++i)
      for (int64_t j = 0; j < sc[1]; ++j)
        for (int64_t k = 0; k < sc[2]; ++k) {
          int64_t idx[3] = {i, j, k};
          const bool from_a = idx[dim] < sa[dim];
          if (!from_a) idx[dim] -= sa[dim];
          const Tensor& src = from_a ? a : b;
          const double expected = read_as_double(src, (idx[0] * src.size(1) + idx[1]) * src.size(2) + idx[2]);
          CHECK(read_as_double(c, (i * sc[1] + j) * sc[2] + k) == expected);
        }
    // The backward hands each part its own slice back.
    auto grads = value_or_die(ops::concat_backward(c, dim, {sa[dim], sb[dim]}));
    CHECK(grads[0].to_vector<double>() == a.to_vector<double>());
    CHECK(grads[1].to_vector<double>() == b.to_vector<double>());
  }
  CHECK_FALSE(ops::concat({Tensor::zeros({2, 3}), Tensor::zeros({2, 4})}, 0).ok());
  CHECK_FALSE(ops::concat({Tensor(), Tensor()}, 0).ok());
  CHECK_FALSE(ops::concat_backward(Tensor::zeros({5, 2}), 0, {2, 2}).ok());
}

}  // TEST_SUITE

TEST_SUITE("gradcheck") {
TEST_CASE("gradcheck: concat along rows and along a middle dim, with an undefined (empty cache) part") {
  Generator gen(4);
  autograd::Variable a(randn({3, 4}, DType::kF64, gen), true, "a");
  autograd::Variable b(randn({1, 4}, DType::kF64, gen), true, "b");
  autograd::Variable c(randn({2, 4}, DType::kF64, gen), true, "c");
  Status s = autograd::gradcheck(
      [](const std::vector<autograd::Variable>& in) { return autograd::concat(in, 0); }, {a, b, c});
  CHECK_MESSAGE(s.ok(), s.message());
  autograd::Variable k(randn({2, 3, 2}, DType::kF64, gen), true, "k");
  s = autograd::gradcheck(
      [](const std::vector<autograd::Variable>& in) {
        return autograd::concat({autograd::Variable(Tensor()), in[0], in[1]}, 1);
      },
      {k, autograd::Variable(randn({2, 1, 2}, DType::kF64, gen), true, "k_new")});
  CHECK_MESSAGE(s.ok(), s.message());
}
}

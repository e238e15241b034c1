// Embedding: lookup and the accumulating backward against naive loops (ids [N] and [B, T], i32
// and i64, repeated ids), determinism, errors naming position, id and V, gradcheck.
// Shape letters: V vocab, d width, N tokens, B batch, T sequence.
#include <doctest/doctest.h>

#include "autograd/embedding.h"
#include "autograd/gradcheck.h"
#include "ops/embedding.h"
#include "tests/ops/dense_test_util.h"
#include "tests/ops/index_test_util.h"

using namespace mone;
using namespace mone::dense_test;
using namespace mone::index_test;

TEST_SUITE("unit") {

TEST_CASE("embedding and embedding_backward match naive loops, with repeated ids") {
  struct Case { int64_t V, d; Shape ids; };
  // The last case repeats each of 5 ids ~120 times over 600 tokens and takes the parallel path.
  const std::vector<Case> cases = {{1, 1, {1}}, {7, 3, {5}}, {4, 9, {2, 3}}, {50, 1, {6}}, {5, 130, {3, 200}}};
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (DType it : {DType::kI32, DType::kI64}) {
      for (const Case& c : cases) {
        const int64_t n = shape_numel(c.ids);
        Tensor w = random({c.V, c.d}, dt, seed++);
        const std::vector<int64_t> idv = random_ids(n, c.V, seed++);
        Tensor ids = index_tensor(idv, c.ids, it);
        Shape out_shape = c.ids;
        out_shape.push_back(c.d);
        Tensor g = random(out_shape, dt, seed++);
        const std::vector<double> wv = w.to_vector<double>(), gv = g.to_vector<double>();
        std::vector<double> y(n * c.d), gw(c.V * c.d, 0.0);
        for (int64_t p = 0; p < n; ++p) {
          for (int64_t j = 0; j < c.d; ++j) {
            y[p * c.d + j] = wv[idv[p] * c.d + j];
            gw[idv[p] * c.d + j] += gv[p * c.d + j];
          }
        }
        Tensor out = value_or_die(ops::embedding(w, ids));
        CHECK(out.shape() == out_shape);
        CHECK(max_abs_diff(out, y) == 0.0);
        Tensor grad_w = value_or_die(ops::embedding_backward(g, ids, c.V));
        CHECK(grad_w.shape() == Shape{c.V, c.d});
        CHECK(max_abs_diff(grad_w, gw) <= tolerance(dt, n));
      }
    }
  }
}

TEST_CASE("embedding_backward is deterministic and leaves unused rows at zero") {
  Tensor g = random({400, 96}, DType::kF32, 9);
  Tensor ids = index_tensor(random_ids(400, 3, 10), {400});  // ids 0..2 of V = 6
  Tensor a = value_or_die(ops::embedding_backward(g, ids, 6));
  Tensor b = value_or_die(ops::embedding_backward(g, ids, 6));
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  const auto av = a.to_vector<double>();
  for (int64_t i = 3 * 96; i < 6 * 96; ++i) CHECK(av[i] == 0.0);
}

TEST_CASE("embedding: bad arguments are errors naming the op, position, id and V") {
  Tensor w = Tensor::zeros({5, 3});
  check_error(ops::embedding(w, index_tensor({0, 1, 2, 3, 4, 5}, {2, 3})),
              {"embedding", "ids[1, 2] = 5", "V = 5"});
  check_error(ops::embedding(w, index_tensor({0, -1}, {2}, DType::kI32)), {"ids[1] = -1", "V = 5"});
  check_error(ops::embedding(Tensor::zeros({5}), index_tensor({0}, {1})), {"embedding", "weight is f32[5]", "2 dims"});
  check_error(ops::embedding(Tensor::zeros({5, 3}, DType::kI64), index_tensor({0}, {1})), {"weight is i64[5, 3]"});
  check_error(ops::embedding(w, Tensor::zeros({2})), {"embedding", "ids is f32[2]", "i32 or i64"});
  Tensor ids = index_tensor({0, 4}, {2});
  check_error(ops::embedding_backward(Tensor::zeros({3, 3}), ids, 5),
              {"embedding_backward", "grad_out is f32[3, 3]", "ids is i64[2]"});
  check_error(ops::embedding_backward(Tensor::zeros({2}), ids, 5), {"embedding_backward", "shape + [d]"});
  check_error(ops::embedding_backward(Tensor::zeros({2, 3}), ids, 4), {"embedding_backward", "ids[1] = 4", "V = 4"});
  check_error(ops::embedding_backward(Tensor::zeros({2, 3}), ids, -1), {"V = -1"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: embedding with repeated ids") {
  autograd::Variable w(random({4, 3}, DType::kF64, 21), true, "weight");
  const Tensor ids = index_tensor({1, 3, 1, 0, 1, 3}, {2, 3});
  auto fn = [&ids](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
    return autograd::embedding(in[0], ids);
  };
  Status s = autograd::gradcheck(fn, {w});
  CHECK_MESSAGE(s.ok(), s.message());
}

}  // TEST_SUITE("gradcheck")

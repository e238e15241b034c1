// Embedding on CUDA (cuda/embedding.cu): the lookup, and the deterministic backward, which sums
// each id's rows in position order as the CPU does, so f32 gradients match the CPU bit for bit.
#include <doctest/doctest.h>

#include <algorithm>

#include "ops/embedding.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {
// n ids in [0, V) with many repeats (a small vocabulary part is hot), as i64 or i32.
Tensor random_ids(const Shape& shape, int64_t V, uint64_t seed, DType dtype) {
  Generator gen(seed);
  std::vector<int64_t> ids(shape_numel(shape));
  const int64_t hot = std::min<int64_t>(V, 4);
  for (auto& id : ids) {
    id = static_cast<int64_t>(gen.uniform() * (gen.uniform() < 0.5 ? hot : V));
  }
  return as(value_or_die(Tensor::from_vector(ids, shape)), dtype);
}
}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: embedding lookup and backward match the CPU; the f32 backward bit for bit") {
  if (skip_without_gpu()) return;
  struct Case {
    Shape ids;
    int64_t V, d;
  };
  // One id; a batch with repeats and odd width; more ids than a power of two; a wide table.
  for (const Case& c : {Case{{1}, 1, 1}, Case{{3, 37}, 50, 129}, Case{{1025}, 7, 5}, Case{{2, 16}, 1000, 1024}}) {
    for (DType id_dtype : {DType::kI64, DType::kI32}) {
      INFO("ids ", shape_string(c.ids), " V ", c.V, " d ", c.d, " ", dtype_name(id_dtype));
      const Tensor w = random({c.V, c.d}, 1), ids = random_ids(c.ids, c.V, c.V + c.d, id_dtype);
      const Tensor want = value_or_die(ops::embedding(w, ids));
      const Tensor got = value_or_die(ops::embedding(to_gpu(w), to_gpu(ids)));
      check_close("embedding", got, want, 0.0);
      Shape gshape = c.ids;
      gshape.push_back(c.d);
      const Tensor g = random(gshape, 2);
      const Tensor gw_cpu = value_or_die(ops::embedding_backward(g, ids, c.V));
      const Tensor gw_gpu = value_or_die(ops::embedding_backward(to_gpu(g), to_gpu(ids), c.V));
      check_close("embedding_backward", gw_gpu, gw_cpu, 0.0);
      CHECK(bitwise_equal(gw_gpu, gw_cpu));
    }
  }
}

TEST_CASE("cuda: embedding in bf16, and a bad id named with its position") {
  if (skip_without_gpu()) return;
  const Tensor w = bf16_rounded(random({40, 33}, 3)), ids = random_ids({65}, 40, 4, DType::kI64);
  const Tensor g = bf16_rounded(random({65, 33}, 5));
  check_close("embedding", value_or_die(ops::embedding(to_gpu(as(w, DType::kBF16)), to_gpu(ids))),
              value_or_die(ops::embedding(w, ids)), 0.0);
  // Sums of up to ~35 rows in f32, rounded once to bf16.
  check_close("embedding_backward",
              value_or_die(ops::embedding_backward(to_gpu(as(g, DType::kBF16)), to_gpu(ids), 40)),
              value_or_die(ops::embedding_backward(g, ids, 40)), 1.0 / 256);
  const Tensor bad = value_or_die(Tensor::from_vector<int64_t>({0, 3, 40}, {3}));
  const auto r = ops::embedding(to_gpu(w), to_gpu(bad));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("ids[2] = 40") != std::string::npos);
}

}  // TEST_SUITE

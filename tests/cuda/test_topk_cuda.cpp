// CUDA top-k (cuda/topk.h) and its backward. "unit": the order key the GPU sorts by, checked on the
// CPU: a stable sort of all rows by (row, complemented order key), as the kernel does, must give
// ops::topk's values and indices exactly, with ties, ±0, ±inf and NaN. "cuda": the GPU against the
// CPU, exactly (f32 and bf16: the selection and the backward's sums are the CPU's). Without a GPU
// the cuda cases say so and check that CUDA tensors fail cleanly.
// Shape letters: R rows, n searched dim, k kept.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "cuda/topk.h"
#include "ops/topk.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// [R, n] f32 values on a coarse grid (many ties), with NaN (both signs), ±inf and ±0 mixed in.
Tensor tricky_rows(int64_t rows, int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v = randn({rows, n}, DType::kF32, gen).to_vector<float>();
  const float specials[] = {kNaN, -kNaN, kInf, -kInf, 0.0f, -0.0f};
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = std::round(v[i] * 2.0f) / 2.0f;
    if (i % 11 == 3) v[i] = specials[(i / 11) % 6];
  }
  return value_or_die(Tensor::from_vector<float>(v, {rows, n}));
}

// Values and indices equal element by element (values bitwise, so NaN matches NaN).
void check_same_topk(const ops::TopkResult& got_any, const ops::TopkResult& want) {
  CHECK(bitwise_equal(got_any.values, want.values));
  CHECK(to_cpu(got_any.indices).to_vector<int64_t>() == want.indices.to_vector<int64_t>());
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("topk order key: one stable sort by (row, ~key) gives the CPU top-k, with ties, ±0, ±inf and NaN") {
  for (const auto& [rows, n, k] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 7, 3}, {5, 65, 65}, {4, 257, 20}}) {
    const Tensor x = tricky_rows(rows, n, 7 + n);
    const std::vector<float> xv = x.to_vector<float>();
    std::vector<uint64_t> keys(xv.size());
    for (size_t p = 0; p < xv.size(); ++p) keys[p] = cuda::topk_sort_key(p / n, xv[p]);
    std::vector<int64_t> order(xv.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
    std::vector<float> values;
    std::vector<int64_t> indices;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < k; ++i) {
        values.push_back(xv[order[r * n + i]]);
        indices.push_back(order[r * n + i] - r * n);
      }
    }
    const ops::TopkResult cpu = value_or_die(ops::topk(x, k));
    check_same_topk({value_or_die(Tensor::from_vector<float>(values, {rows, k})),
                     value_or_die(Tensor::from_vector<int64_t>(indices, {rows, k}))},
                    cpu);
  }
  CHECK(cuda::topk_order_key(-0.0f) == cuda::topk_order_key(0.0f));
  CHECK(cuda::topk_order_key(kNaN) == cuda::topk_order_key(-kNaN));
  CHECK(cuda::topk_order_key(kNaN) > cuda::topk_order_key(kInf));
  CHECK(cuda::topk_order_key(-kInf) < cuda::topk_order_key(-1e38f));
  CHECK(cuda::topk_order_key(1.0f) > cuda::topk_order_key(0.99999994f));
  CHECK(cuda::topk_order_key(-1.0f) < cuda::topk_order_key(-0.99999994f));
}

}  // TEST_SUITE("unit")

TEST_SUITE("cuda") {

TEST_CASE("cuda: topk matches the CPU exactly (f32 and bf16; n = 1, 7, 65, 257, 4096; k = 1, n/2, n)") {
  if (skip_without_gpu()) return;
  uint64_t seed = 30;
  for (int64_t n : {1, 7, 65, 257, 4096}) {
    for (int64_t k : {int64_t{1}, std::max<int64_t>(1, n / 2), n}) {
      for (DType dtype : {DType::kF32, DType::kBF16}) {
        CAPTURE(n);
        CAPTURE(k);
        CAPTURE(dtype_name(dtype));
        const int64_t rows = n == 4096 ? 9 : 37;
        const Tensor x = value_or_die(tricky_rows(rows, n, seed++).to(dtype));
        // The CPU reference on the same values in f32 (bf16 widens exactly).
        const Tensor x32 = value_or_die(x.to(DType::kF32));
        ops::TopkResult want = value_or_die(ops::topk(x32, k));
        want.values = value_or_die(want.values.to(dtype));
        check_same_topk(value_or_die(ops::topk(to_gpu(x), k)), want);
      }
    }
  }
  // Leading dims are rows; size 1.
  const Tensor x3 = tricky_rows(6, 5, 99);
  const Tensor x3d = value_or_die(x3.reshape({2, 3, 5}));
  check_same_topk(value_or_die(ops::topk(to_gpu(x3d), 2)), value_or_die(ops::topk(x3d, 2)));
  const Tensor one = Tensor::full({1, 1}, 2.5);
  check_same_topk(value_or_die(ops::topk(to_gpu(one), 1)), value_or_die(ops::topk(one, 1)));
}

TEST_CASE("cuda: topk_backward matches the CPU exactly, repeated indices included") {
  if (skip_without_gpu()) return;
  Generator gen(41);
  for (DType dtype : {DType::kF32, DType::kBF16}) {
    const int64_t rows = 13, n = 65, k = 9;
    const Tensor g = value_or_die(randn({rows, k}, DType::kF32, gen).to(dtype));
    std::vector<int64_t> idx(rows * k);
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = (i * 7 + i / 5) % n;
    idx[3] = idx[4] = idx[5];  // one row adds three gradients into one element
    const Tensor indices = value_or_die(Tensor::from_vector<int64_t>(idx, {rows, k}));
    // CPU in f32 on the same values; bf16 rounds the f32 sum once, as the GPU does.
    const Tensor want = value_or_die(
        value_or_die(ops::topk_backward(value_or_die(g.to(DType::kF32)), indices, n)).to(dtype));
    const Tensor got = value_or_die(ops::topk_backward(to_gpu(g), to_gpu(indices), n));
    CHECK(bitwise_equal(got, want));
  }
}

}  // TEST_SUITE("cuda")

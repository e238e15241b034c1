// CUDA gather and scatter_add (cuda/gather.h). "unit": the kernels' index arithmetic and the
// deterministic scatter (pairs sorted stably by destination, each run summed in order), run on
// the CPU with std::stable_sort in place of the GPU sort, against ops::gather and
// ops::scatter_add bit for bit. "cuda": the GPU against the CPU, bit for bit (f32; bf16 against
// the CPU's f32 sums rounded once), i32 and i64 indices, every dim of ranks 1 to 4, repeated
// indices, empty index. Without a GPU the cuda cases say so and check that CUDA tensors fail cleanly.
// Shape letters: r the shared rank, N index elements.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "cuda/gather.h"
#include "ops/gather.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {

struct GatherCase {
  Shape data;   // x for gather, the output for scatter_add
  Shape index;  // no larger than data but along dim
  int64_t dim;
};

// Cases over every dim of ranks 1 to 4; indices repeat (J > data[dim] in places).
std::vector<GatherCase> cases() {
  return {{{7}, {5}, 0},           {{3}, {9}, 0},           {{4, 5}, {4, 3}, 1},      {{4, 5}, {6, 5}, 0},
          {{4, 5}, {2, 5}, 0},     {{3, 4, 5}, {3, 4, 7}, 2}, {{3, 4, 5}, {2, 6, 5}, 1}, {{3, 4, 5}, {5, 4, 5}, 0},
          {{2, 3, 4, 5}, {2, 3, 4, 2}, 3}, {{2, 3, 4, 5}, {2, 1, 9, 5}, 2}, {{1, 1}, {1, 1}, 1}, {{6, 2}, {0, 2}, 0}};
}

Tensor random_index(const GatherCase& c, DType dtype, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> v(shape_numel(c.index));
  for (int64_t& x : v) x = static_cast<int64_t>(gen.uniform() * c.data[c.dim]) % c.data[c.dim];
  return value_or_die(value_or_die(Tensor::from_vector<int64_t>(v, c.index)).to(dtype));
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("gather index arithmetic and the sorted-run scatter, on the CPU, equal ops::gather and ops::scatter_add") {
  uint64_t seed = 1;
  for (const GatherCase& c : cases()) {
    CAPTURE(shape_string(c.data));
    CAPTURE(shape_string(c.index));
    CAPTURE(c.dim);
    Generator gen(seed++);
    const Tensor x = randn(c.data, DType::kF32, gen), src = randn(c.index, DType::kF32, gen);
    const Tensor index = random_index(c, DType::kI64, seed++);
    const std::vector<int64_t> idx = index.to_vector<int64_t>();
    const std::vector<float> xv = x.to_vector<float>(), sv = src.to_vector<float>();
    const cuda::GatherGeometry g = cuda::gather_geometry(c.index, c.data, c.dim);
    const int64_t n = static_cast<int64_t>(idx.size());

    std::vector<float> gathered(n);
    for (int64_t p = 0; p < n; ++p) gathered[p] = xv[cuda::gather_data_offset(g, p, idx[p])];
    CHECK(bitwise_equal(value_or_die(Tensor::from_vector<float>(gathered, c.index)), value_or_die(ops::gather(x, c.dim, index))));

    // The scatter as the kernels do it: (offset, p) pairs sorted stably by offset, one sum per run.
    std::vector<uint64_t> offsets(n);
    std::vector<uint32_t> positions(n);
    for (int64_t p = 0; p < n; ++p) offsets[p] = cuda::gather_data_offset(g, p, idx[p]);
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return offsets[a] < offsets[b]; });
    std::vector<uint64_t> sorted_offsets(n);
    for (int64_t s = 0; s < n; ++s) {
      sorted_offsets[s] = offsets[order[s]];
      positions[s] = static_cast<uint32_t>(order[s]);
    }
    std::vector<float> scattered(shape_numel(c.data), 0.0f);
    for (int64_t s = 0; s < n; ++s) {
      float sum;
      if (cuda::scatter_run_sum(sorted_offsets.data(), positions.data(), n, s, [&](uint32_t p) { return sv[p]; }, &sum)) {
        scattered[sorted_offsets[s]] = sum;
      }
    }
    CHECK(bitwise_equal(value_or_die(Tensor::from_vector<float>(scattered, c.data)),
                    value_or_die(ops::scatter_add(c.data, c.dim, index, src))));
  }
}

}  // TEST_SUITE("unit")

TEST_SUITE("cuda") {

TEST_CASE("cuda: gather, scatter_add and their backwards match the CPU bit for bit (f32, bf16; i32, i64)") {
  if (skip_without_gpu()) return;
  uint64_t seed = 100;
  for (const GatherCase& c : cases()) {
    for (DType dtype : {DType::kF32, DType::kBF16}) {
      for (DType index_dtype : {DType::kI32, DType::kI64}) {
        CAPTURE(shape_string(c.data));
        CAPTURE(shape_string(c.index));
        CAPTURE(c.dim);
        CAPTURE(dtype_name(dtype));
        CAPTURE(dtype_name(index_dtype));
        Generator gen(seed++);
        const Tensor x = value_or_die(randn(c.data, DType::kF32, gen).to(dtype));
        const Tensor src = value_or_die(randn(c.index, DType::kF32, gen).to(dtype));
        const Tensor index = random_index(c, index_dtype, seed++);
        // The CPU in f32 on the same values; bf16 rounds the f32 sums once, as the GPU does.
        const Tensor x32 = value_or_die(x.to(DType::kF32)), src32 = value_or_die(src.to(DType::kF32));
        const auto as = [&](const Tensor& t) { return value_or_die(t.to(dtype)); };
        const Tensor gx = to_gpu(x), gsrc = to_gpu(src), gindex = to_gpu(index);
        CHECK(bitwise_equal(value_or_die(ops::gather(gx, c.dim, gindex)), as(value_or_die(ops::gather(x32, c.dim, index)))));
        CHECK(bitwise_equal(value_or_die(ops::scatter_add(c.data, c.dim, gindex, gsrc)),
                        as(value_or_die(ops::scatter_add(c.data, c.dim, index, src32)))));
        CHECK(bitwise_equal(value_or_die(ops::gather_backward(gsrc, c.data, c.dim, gindex)),
                        as(value_or_die(ops::gather_backward(src32, c.data, c.dim, index)))));
        const Tensor gout = to_gpu(as(randn(c.data, DType::kF32, gen)));
        CHECK(bitwise_equal(value_or_die(ops::scatter_add_backward(gout, c.dim, gindex)),
                        as(value_or_die(ops::scatter_add_backward(value_or_die(to_cpu(gout).to(DType::kF32)), c.dim, index)))));
      }
    }
  }
}

TEST_CASE("cuda: scatter_add of many sources into one element sums them in index order (deterministic)") {
  if (skip_without_gpu()) return;
  // 100000 sources into 3 destinations along dim 0: long runs, one thread each, in order.
  const GatherCase c{{3, 2}, {100000, 2}, 0};
  Generator gen(7);
  const Tensor src = randn(c.index, DType::kF32, gen);
  const Tensor index = random_index(c, DType::kI64, 8);
  const Tensor want = value_or_die(ops::scatter_add(c.data, 0, index, src));
  const Tensor got = value_or_die(ops::scatter_add(c.data, 0, to_gpu(index), to_gpu(src)));
  CHECK(bitwise_equal(got, want));
  CHECK(bitwise_equal(value_or_die(ops::scatter_add(c.data, 0, to_gpu(index), to_gpu(src))), got));
}

TEST_CASE("cuda: gather errors are Statuses naming the op (f64 data, an index out of range)") {
  if (skip_without_gpu()) return;
  const Tensor x64 = to_gpu(Tensor::zeros({4, 3}, DType::kF64));
  const Tensor index = to_gpu(value_or_die(Tensor::from_vector<int64_t>({0, 1, 2, 3}, {4, 1})));
  CHECK(ops::gather(x64, 0, index).status().code() == absl::StatusCode::kInvalidArgument);
  const Tensor bad = to_gpu(value_or_die(Tensor::from_vector<int64_t>({0, 1, 7, 3}, {4, 1})));
  const Status s = ops::gather(to_gpu(Tensor::zeros({4, 3})), 1, bad).status();
  CHECK(std::string(s.message()).find("gather: index[2, 0] = 7 is outside [0, 3)") != std::string::npos);
}

}  // TEST_SUITE("cuda")

// matmul through cuBLAS (cuda/blas.cpp) against OpenBLAS on the CPU: every transpose, the batched
// and the rows forms, views read in place, bf16 with f32 accumulation, TF32 only when asked.
#include <doctest/doctest.h>

#include "cuda/blas.h"
#include "ops/matmul.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {
// a [M, K] or [K, M], b [K, N] or [N, K] (with a leading batch when batch > 0).
std::pair<Tensor, Tensor> operands(int64_t batch, int64_t m, int64_t n, int64_t k, bool ta, bool tb, uint64_t seed) {
  Shape sa = ta ? Shape{k, m} : Shape{m, k}, sb = tb ? Shape{n, k} : Shape{k, n};
  if (batch > 0) {
    sa.insert(sa.begin(), batch);
    sb.insert(sb.begin(), batch);
  }
  return {random(sa, seed), random(sb, seed + 1)};
}
}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: matmul matches the CPU for every transpose, 2-D and batched, odd sizes and size 1") {
  if (skip_without_gpu()) return;
  uint64_t seed = 1;
  for (int64_t batch : {0, 3}) {
    for (const auto& mnk : {std::tuple<int64_t, int64_t, int64_t>{37, 19, 65}, {1, 1, 1}, {1, 130, 7}, {129, 1, 3}}) {
      // Not a structured binding: INFO is a lambda (clang 14).
      const int64_t m = std::get<0>(mnk), n = std::get<1>(mnk), k = std::get<2>(mnk);
      for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
          INFO("batch ", batch, " M ", m, " N ", n, " K ", k, " trans_a ", ta, " trans_b ", tb);
          const auto [a, b] = operands(batch, m, n, k, ta, tb, seed++);
          const Tensor want = value_or_die(ops::matmul(a, b, ta, tb));
          check_close("matmul", value_or_die(ops::matmul(to_gpu(a), to_gpu(b), ta, tb)), want, 1e-4);
          // The backward: two more GEMMs each.
          const Tensor g = random(want.shape(), seed++);
          const auto gw = value_or_die(ops::matmul_backward(g, a, b, ta, tb));
          const auto gg = value_or_die(ops::matmul_backward(to_gpu(g), to_gpu(a), to_gpu(b), ta, tb));
          check_close("matmul_backward", gg.grad_a, gw.grad_a, 1e-4);
          check_close("matmul_backward", gg.grad_b, gw.grad_b, 1e-4);
        }
      }
    }
  }
}

TEST_CASE("cuda: matmul reads views in place and flattens leading dims (the linear layer)") {
  if (skip_without_gpu()) return;
  // x [B, T, d] · Wᵀ with W [out, d]; W given as a transposed view of [d, out].
  const Tensor x = random({2, 5, 33}, 10), w_t = random({33, 17}, 11);
  const Tensor w_view = value_or_die(w_t.transpose(0, 1));  // [17, 33], not contiguous
  check_close("matmul", value_or_die(ops::matmul(to_gpu(x), value_or_die(to_gpu(w_t).transpose(0, 1)), false, true)),
              value_or_die(ops::matmul(x, w_view, false, true)), 1e-4);
  // A column slice: rows 33 apart, 8 wide.
  const Tensor wide = random({9, 33}, 12), b = random({8, 4}, 13);
  const Tensor cols = value_or_die(wide.slice(1, 5, 13));
  check_close("matmul", value_or_die(ops::matmul(value_or_die(to_gpu(wide).slice(1, 5, 13)), to_gpu(b))),
              value_or_die(ops::matmul(cols, b)), 1e-4);
  // K = 0: a zero matrix.
  const Tensor e1 = value_or_die(Tensor::empty({3, 0}, DType::kF32, Device::cuda()));
  const Tensor e2 = value_or_die(Tensor::empty({0, 4}, DType::kF32, Device::cuda()));
  check_close("matmul", value_or_die(ops::matmul(e1, e2)), Tensor::zeros({3, 4}), 0.0);
}

TEST_CASE("cuda: bf16 matmul accumulates in f32; TF32 only when allowed") {
  if (skip_without_gpu()) return;
  const auto [a, b] = operands(2, 64, 48, 1024, false, true, 20);
  const Tensor a16 = bf16_rounded(a), b16 = bf16_rounded(b);
  const Tensor want = value_or_die(ops::matmul(a16, b16, false, true));
  const Tensor got = value_or_die(ops::matmul(to_gpu(as(a16, DType::kBF16)), to_gpu(as(b16, DType::kBF16)), false, true));
  CHECK(got.dtype() == DType::kBF16);
  // Exact products, f32 sums over K = 1024, one bf16 rounding of the output.
  check_close("matmul", got, want, 1.0 / 128);
  // f32 without TF32 is accurate to f32; with TF32, products keep 10 mantissa bits.
  const Tensor da = to_gpu(a), db = to_gpu(b);
  const Tensor exact = value_or_die(ops::matmul(a, b, false, true));
  CHECK_FALSE(cuda::allow_tf32());
  check_close("matmul", value_or_die(ops::matmul(da, db, false, true)), exact, 1e-4);
  cuda::set_allow_tf32(true);
  const Tensor tf32 = value_or_die(ops::matmul(da, db, false, true));
  cuda::set_allow_tf32(false);
  check_close("matmul (tf32)", tf32, exact, 1e-2);
  // f64 has no CUDA GEMM: a Status naming the op.
  const auto r = ops::matmul(to_gpu(as(a, DType::kF64)), to_gpu(as(b, DType::kF64)), false, true);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("matmul") != std::string::npos);
}

}  // TEST_SUITE

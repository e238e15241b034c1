// The fused log-softmax + cross-entropy on CUDA (cuda/cross_entropy.cu) against the CPU: the loss,
// lse, the count of rows that are not ignored, and the gradient.
#include <doctest/doctest.h>

#include "ops/cross_entropy.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {
// N targets in [0, V), every third one ignore_index when `ignore` is set.
Tensor targets(int64_t N, int64_t V, bool ignore, int64_t ignore_index, uint64_t seed, DType dtype) {
  Generator gen(seed);
  std::vector<int64_t> t(N);
  for (int64_t r = 0; r < N; ++r) t[r] = ignore && r % 3 == 1 ? ignore_index : static_cast<int64_t>(gen.uniform() * V);
  return as(value_or_die(Tensor::from_vector(t, {N})), dtype);
}
}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: cross_entropy forward and backward match the CPU, with and without ignored rows") {
  if (skip_without_gpu()) return;
  for (const auto& NV : {std::pair<int64_t, int64_t>{1, 1}, {1, 7}, {37, 5003}, {300, 50}}) {
    const int64_t N = NV.first, V = NV.second;  // not a structured binding: INFO is a lambda (clang 14)
    for (bool ignore : {false, true}) {
      INFO("N ", N, " V ", V, " ignore ", ignore);
      const Tensor logits = random({N, V}, N + V, 4.0);
      const Tensor t = targets(N, V, ignore, -100, 7, ignore ? DType::kI32 : DType::kI64);
      const auto want = value_or_die(ops::cross_entropy(logits, t, -100));
      const auto got = value_or_die(ops::cross_entropy(to_gpu(logits), to_gpu(t), -100));
      CHECK(got.count == want.count);
      check_close("cross_entropy", got.loss, want.loss, 1e-5);
      check_close("cross_entropy", got.lse, want.lse, 1e-5);
      const Tensor gl = value_or_die(Tensor::from_vector<float>({0.7f}, {}));
      check_close("cross_entropy_backward",
                  value_or_die(ops::cross_entropy_backward(to_gpu(gl), to_gpu(logits), to_gpu(t), got.lse, -100,
                                                           got.count)),
                  value_or_die(ops::cross_entropy_backward(gl, logits, t, want.lse, -100, want.count)), 1e-5);
    }
  }
}

TEST_CASE("cuda: cross_entropy with every row ignored is 0 with a zero gradient; bf16 logits") {
  if (skip_without_gpu()) return;
  const Tensor logits = random({4, 9}, 1);
  const Tensor all_ignored = value_or_die(Tensor::from_vector<int64_t>({-1, -1, -1, -1}, {4}));
  const auto got = value_or_die(ops::cross_entropy(to_gpu(logits), to_gpu(all_ignored), -1));
  CHECK(got.count == 0);
  CHECK(to_cpu(got.loss).item() == 0.0);
  const Tensor one = to_gpu(value_or_die(Tensor::from_vector<float>({1.f}, {})));
  const Tensor grad = value_or_die(ops::cross_entropy_backward(one, to_gpu(logits), to_gpu(all_ignored), got.lse, -1, 0));
  check_close("cross_entropy_backward", grad, Tensor::zeros({4, 9}), 0.0);
  // bf16 logits: lse and the loss are f32 (the accumulation dtype), so the loss matches the f32 CPU
  // run on the same rounded logits to f32's tolerance; the gradient is rounded once to bf16.
  const Tensor l16 = bf16_rounded(random({16, 1000}, 2, 3.0));
  const Tensor t = targets(16, 1000, true, -1, 3, DType::kI64);
  const auto want = value_or_die(ops::cross_entropy(l16, t, -1));
  const auto got16 = value_or_die(ops::cross_entropy(to_gpu(as(l16, DType::kBF16)), to_gpu(t), -1));
  CHECK(got16.loss.dtype() == DType::kF32);
  CHECK(got16.lse.dtype() == DType::kF32);
  check_close("cross_entropy", got16.loss, want.loss, 1e-5);
  check_close("cross_entropy", got16.lse, want.lse, 1e-5);
  const Tensor gl = value_or_die(Tensor::from_vector<float>({1.f}, {}));
  const Tensor g16 = value_or_die(ops::cross_entropy_backward(to_gpu(gl), to_gpu(as(l16, DType::kBF16)), to_gpu(t),
                                                              got16.lse, -1, got16.count));
  CHECK(g16.dtype() == DType::kBF16);
  check_close("cross_entropy_backward", g16, value_or_die(ops::cross_entropy_backward(gl, l16, t, want.lse, -1, want.count)),
              1.0 / 128);
  // A target outside the vocabulary is named.
  const Tensor bad = value_or_die(Tensor::from_vector<int64_t>({0, 9, 1, 2}, {4}));
  const auto r = ops::cross_entropy(to_gpu(logits), to_gpu(bad), -1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("targets[1] = 9") != std::string::npos);
}

}  // TEST_SUITE

// The optimizer on CUDA: fused AdamW (cuda/optim.cu), the global gradient norm (fixed-order sums)
// and clipping, against the CPU.
#include <doctest/doctest.h>

#include "ops/optim.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: five AdamW steps match the CPU's") {
  if (skip_without_gpu()) return;
  for (int64_t n : {1, 1000, 65537}) {
    INFO("n ", n);
    Tensor p = random({n}, 1), m = Tensor::zeros({n}), v = Tensor::zeros({n});
    Tensor dp = to_gpu(p), dm = to_gpu(m), dv = to_gpu(v);
    const ops::AdamWParams hp{.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1};
    for (int64_t step = 1; step <= 5; ++step) {
      const Tensor g = random({n}, 10 + step);
      REQUIRE(ops::adamw_update(p, g, m, v, hp, step).ok());
      const uint64_t version = dp.version();
      REQUIRE(ops::adamw_update(dp, to_gpu(g), dm, dv, hp, step).ok());
      CHECK(dp.version() == version + 1);
    }
    check_close("adamw_update", dp, p, 1e-5);
    check_close("adamw_update", dm, m, 1e-5);
    check_close("adamw_update", dv, v, 1e-5);
  }
  // bf16 master weights are refused.
  Tensor p16 = to_gpu(as(random({4}, 2), DType::kBF16)), m16 = p16.clone(), v16 = p16.clone();
  CHECK_FALSE(ops::adamw_update(p16, p16, m16, v16, {}, 1).ok());
}

TEST_CASE("cuda: the global gradient norm and clipping match the CPU, and repeat bit for bit") {
  if (skip_without_gpu()) return;
  std::vector<Tensor> cpu = {random({300, 7}, 1), Tensor(), random({1}, 2), random({100003}, 3)};
  std::vector<Tensor> gpu;
  for (const Tensor& t : cpu) gpu.push_back(t.defined() ? to_gpu(t) : Tensor());
  const double want = value_or_die(ops::global_grad_norm(cpu));
  const double got = value_or_die(ops::global_grad_norm(gpu));
  CHECK(std::abs(got - want) <= 1e-12 * want);  // both: per-tensor sums in double, added in order
  CHECK(value_or_die(ops::global_grad_norm(gpu)) == got);
  // Clip to a tenth of the norm: every grad scaled by max_norm / (norm + 1e-6).
  CHECK(value_or_die(ops::clip_grad_norm(cpu, want / 10)) == want);
  CHECK(value_or_die(ops::clip_grad_norm(gpu, want / 10)) == got);
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (cpu[i].defined()) check_close("clip_grad_norm", gpu[i], cpu[i], 1e-6);
  }
  // bf16 grads: their squares summed in double.
  const Tensor g16 = bf16_rounded(random({5000}, 4));
  const double n16 = value_or_die(ops::global_grad_norm({to_gpu(as(g16, DType::kBF16))}));
  CHECK(std::abs(n16 - value_or_die(ops::global_grad_norm({g16}))) <= 1e-12 * n16);
}

}  // TEST_SUITE

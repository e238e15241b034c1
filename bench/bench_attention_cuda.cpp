// Causal attention forward + backward on the GPU (ops::attention on CUDA tensors), in TFLOP/s.
//
//   mone_bench_attention_cuda [--runs N]   (default 5 timed samples after 2 warmups; medians)
//
// FLOPs count the useful work of causal attention, as FlashAttention reports it: forward 2
// products (q kᵀ, p v) of 2·T·T·hd per head, halved for the causal mask, so 2·B·H·T²·hd; backward
// 5 products (2.5× the forward). The kernels do more in the backward (grad_q recomputes q kᵀ
// and grad_out vᵀ, 7 products), so this is an effective rate. Without a GPU it prints one line
// and exits 0.
// Shape letters: B batch, T sequence (Tq = Tk), H query heads, Hkv kv heads, hd head dim.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "bench/bench_util.h"
#include "core/rng.h"
#include "cuda/runtime.h"
#include "ops/attention.h"

using namespace mone;

namespace {

struct Case {
  int64_t b, t, h, hkv, hd;
};

// Seconds per call of fn, the median of `runs` samples; each sample ends with sync(), a blocking
// copy of one float to the host, which waits for the work queued on the default stream, where the
// ops launch.
double gpu_seconds(int runs, const std::function<void()>& fn, const std::function<void()>& sync) {
  for (int i = 0; i < 2; ++i) fn();
  sync();
  const double single = bench::seconds([&] {
    fn();
    sync();
  });
  const int reps = std::max(1, static_cast<int>(0.1 / std::max(single, 1e-6)));
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    t.push_back(bench::seconds([&] {
                  for (int i = 0; i < reps; ++i) fn();
                  sync();
                }) /
                reps);
  }
  return bench::median(t);
}

void bench_case(const Case& c, DType dtype, int runs) {
  Generator gen(3);
  const auto on_gpu = [&](const Shape& s) {
    return value_or_die(value_or_die(randn(s, DType::kF32, gen).to(dtype)).to(Device::cuda()));
  };
  const Tensor q = on_gpu({c.b, c.t, c.h, c.hd}), k = on_gpu({c.b, c.t, c.hkv, c.hd}),
               v = on_gpu({c.b, c.t, c.hkv, c.hd}), go = on_gpu({c.b, c.t, c.h, c.hd});
  ops::AttentionForward f = value_or_die(ops::attention(q, k, v));
  const Tensor probe = value_or_die(value_or_die(f.lse.reshape({-1})).slice(0, 0, 1));  // one contiguous float
  const auto sync = [&] { value_or_die(probe.to(Device::cpu())); };
  const double t_fwd = gpu_seconds(runs, [&] { f = value_or_die(ops::attention(q, k, v)); }, sync);
  const double t_bwd = gpu_seconds(runs, [&] { value_or_die(ops::attention_backward(go, q, k, v, f)); }, sync);
  const double fwd_flops = 2.0 * c.b * c.h * c.t * c.t * c.hd, bwd_flops = 2.5 * fwd_flops;
  std::printf("| %s | %ld | %ld | %ld | %ld | %ld | %.3f | %.3f | %.1f | %.1f | %.1f |\n", dtype_name(dtype), c.b, c.t,
              c.h, c.hkv, c.hd, t_fwd * 1e3, t_bwd * 1e3, fwd_flops / t_fwd * 1e-12, bwd_flops / t_bwd * 1e-12,
              (fwd_flops + bwd_flops) / (t_fwd + t_bwd) * 1e-12);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  if (!bench::parse_runs(argc, argv, &runs)) return 2;
  if (cuda_device_count() == 0) {
    std::printf("no GPU: mone_bench_attention_cuda measures nothing here (%s)\n",
                cuda::describe_devices().c_str());
    return 0;
  }
  std::printf("## Machine\n\n");
  bench::print_machine_line();
  std::printf("- GPU: %s\n", cuda::describe_devices().c_str());
  std::printf("## attention on CUDA, causal, Tq = Tk = T (TFLOP/s: useful causal FLOPs, see the source)\n\n");
  std::printf("| dtype | B | T | H | Hkv | hd | forward ms | backward ms | fwd TFLOP/s | bwd TFLOP/s | fwd+bwd TFLOP/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (DType dtype : {DType::kBF16, DType::kF32}) {
    for (const Case& c : {Case{4, 1024, 16, 16, 64}, Case{1, 4096, 16, 4, 128}}) bench_case(c, dtype, runs);
  }
  std::printf("\n");
  return 0;
}

// Dense-op benchmark: mone::ops::matmul against cblas_sgemm called directly in the same process,
// and causal attention forward + backward, at transformer-sized shapes (f32, CPU).
//
//   mone_bench_ops [--runs N]      (default 7 timed samples of >= 0.2 s each after warmups; medians)
//
// Shape letters: M tokens (rows), K input width, N output width; B, T, H, Hkv, hd as in
// ops/attention.h. Output is Markdown, ready for docs/PERF.md.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "core/rng.h"
#include "ops/attention.h"
#include "ops/matmul.h"

using namespace mone;
using bench::median;
using bench::seconds;

namespace {

// Median wall times in seconds per call of a and of b, over `runs` samples after two warmups each.
// A sample repeats its call until it lasts ~0.2 s, so that scheduler time slices (a few ms on a
// busy machine) blur the result less. Samples alternate (a, b, a, b, ...) so that a change in
// machine load hits both sides alike.
std::pair<double, double> median_seconds(int runs, const std::function<void()>& a, const std::function<void()>& b) {
  a();
  b();
  const double single = std::max(seconds(a), seconds(b));
  const int reps = std::max(1, static_cast<int>(std::ceil(0.2 / std::max(single, 1e-6))));
  const auto sample = [reps](const std::function<void()>& fn) {
    return seconds([&] {
             for (int r = 0; r < reps; ++r) fn();
           }) /
           reps;
  };
  std::vector<double> ta, tb;
  for (int r = 0; r < runs; ++r) {
    ta.push_back(sample(a));
    tb.push_back(sample(b));
  }
  return {median(ta), median(tb)};
}

void print_machine() {
  std::printf("## Machine\n\n");
  bench::print_machine_line();
  std::printf("- OpenBLAS threads: %d; OpenBLAS: %s\n\n", openblas_get_num_threads(), openblas_get_config());
}

struct GemmCase {
  const char* what;
  int64_t m, k, n;
  bool trans_b;  // y = x Wᵀ with W [N, K] (the linear layer), or a plain [K, N] product
};

void bench_matmul(int runs) {
  const std::vector<GemmCase> cases = {
      {"x Wᵀ: 512 tokens, d 512 -> 2048", 512, 512, 2048, true},
      {"x Wᵀ: 512 tokens, 2048 -> 512", 512, 2048, 512, true},
      {"x Wᵀ: 4096 tokens, 768 -> 768", 4096, 768, 768, true},
      {"a b: 1024 x 1024 x 1024", 1024, 1024, 1024, false},
      {"a b: 4096 x 768 x 768", 4096, 768, 768, false},
  };
  std::printf("## matmul, f32 (GFLOP/s = 2·M·N·K / median time)\n\n");
  std::printf("| product | M | K | N | ops::matmul ms | GFLOP/s | cblas_sgemm ms | GFLOP/s | ratio |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  Generator gen(1);
  for (const GemmCase& c : cases) {
    const Tensor a = randn({c.m, c.k}, DType::kF32, gen);
    const Tensor b = c.trans_b ? randn({c.n, c.k}, DType::kF32, gen) : randn({c.k, c.n}, DType::kF32, gen);
    Tensor out = Tensor::zeros({c.m, c.n});
    std::vector<float> direct(c.m * c.n);
    const auto [t_mone, t_blas] = median_seconds(
        runs, [&] { out = value_or_die(ops::matmul(a, b, false, c.trans_b)); },
        [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, c.trans_b ? CblasTrans : CblasNoTrans, c.m, c.n, c.k, 1.0f,
                      a.data<float>(), c.k, b.data<float>(), c.trans_b ? c.k : c.n, 0.0f, direct.data(), c.n);
        });
    const double flops = 2.0 * c.m * c.n * c.k;
    std::printf("| %s | %ld | %ld | %ld | %.2f | %.1f | %.2f | %.1f | %.3f |\n", c.what, c.m, c.k, c.n, t_mone * 1e3,
                flops / t_mone * 1e-9, t_blas * 1e3, flops / t_blas * 1e-9, t_blas / t_mone);
  }
  std::printf("\nratio = cblas_sgemm time / ops::matmul time (1.0 = no overhead; ops::matmul also allocates its output).\n\n");
}

struct AttnCase {
  int64_t b, t, h, hkv, hd;
};

void bench_attention(int runs) {
  std::printf("## attention, f32, causal, Tq = Tk = T\n\n");
  std::printf("GFLOP/s here is an effective rate: it counts the full T×T products per head (forward\n");
  std::printf("4·B·H·T²·hd FLOPs, backward 8·B·H·T²·hd), although the kernel skips most of the masked half.\n\n");
  std::printf("| B | T | H | Hkv | hd | forward ms | backward ms | fwd+bwd ms | fwd+bwd GEMM GFLOP/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  Generator gen(2);
  for (const AttnCase& c : {AttnCase{4, 256, 8, 8, 64}, AttnCase{1, 1024, 8, 2, 64}}) {
    const Tensor q = randn({c.b, c.t, c.h, c.hd}, DType::kF32, gen);
    const Tensor k = randn({c.b, c.t, c.hkv, c.hd}, DType::kF32, gen);
    const Tensor v = randn({c.b, c.t, c.hkv, c.hd}, DType::kF32, gen);
    const Tensor go = randn({c.b, c.t, c.h, c.hd}, DType::kF32, gen);
    ops::AttentionForward f = value_or_die(ops::attention(q, k, v));
    const auto [t_fwd, t_bwd] = median_seconds(
        runs, [&] { f = value_or_die(ops::attention(q, k, v)); },
        [&] { value_or_die(ops::attention_backward(go, q, k, v, f)); });
    const double flops = 12.0 * c.b * c.h * c.t * c.t * c.hd;
    std::printf("| %ld | %ld | %ld | %ld | %ld | %.2f | %.2f | %.2f | %.1f |\n", c.b, c.t, c.h, c.hkv, c.hd, t_fwd * 1e3,
                t_bwd * 1e3, (t_fwd + t_bwd) * 1e3, flops / (t_fwd + t_bwd) * 1e-9);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  if (!bench::parse_runs(argc, argv, &runs)) return 2;
  print_machine();
  bench_matmul(runs);
  bench_attention(runs);
  return 0;
}

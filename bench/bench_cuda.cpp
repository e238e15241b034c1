// GPU benchmark: cuBLAS GEMMs against the cuBLAS peak measured in the same process (a large bf16
// product), the grouped expert GEMM (cuda/grouped_gemm.h) against one cuBLAS GEMM per expert, and
// every dense CUDA op at mone-925m sizes (time and achieved bandwidth).
//
//   mone_bench_cuda [--quick]      (--quick: fewer, shorter samples)
//
// Without a GPU it prints one "no GPU" line and exits 0. Times are medians of 5 samples; each
// sample repeats the call until it lasts >= 20 ms (2 ms with --quick) and synchronizes the
// device before reading the host clock, so a time includes the op's launches and allocations
// (from the caching allocator) as a training step sees them. When MONE_BENCH_REPORT names a file,
// each row is appended to it as "op<TAB>dtype<TAB>milliseconds<TAB>shape" (scripts/gpu_check.sh
// joins these with the tests' errors).
//
// Shape letters: M, N, K of a GEMM; N tokens (B·T), d width, V vocab, H heads, hd head dim.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/rng.h"
#include "cuda/blas.h"
#include "cuda/grouped_gemm.h"
#include "cuda/runtime.h"
#include "ops/activation.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "ops/optim.h"
#include "ops/reduce.h"
#include "ops/rope.h"
#include "ops/softmax.h"

using namespace mone;

namespace {

double g_min_sample_s = 0.02;

// Median seconds per call of fn over 5 samples, after 3 warm-up calls.
double time_op(const char* op, const std::function<void()>& fn) {
  for (int i = 0; i < 3; ++i) fn();
  MONE_CHECK_OK(cuda::synchronize(nullptr, op));
  const double single = bench::seconds([&] {
    fn();
    MONE_CHECK_OK(cuda::synchronize(nullptr, op));
  });
  const int reps = std::max(1, static_cast<int>(g_min_sample_s / std::max(single, 1e-7)));
  std::vector<double> samples;
  for (int s = 0; s < 5; ++s) {
    samples.push_back(bench::seconds([&] {
                        for (int r = 0; r < reps; ++r) fn();
                        MONE_CHECK_OK(cuda::synchronize(nullptr, op));
                      }) /
                      reps);
  }
  return bench::median(samples);
}

void report(const char* op, DType dtype, double seconds, const std::string& shape) {
  if (const char* path = std::getenv("MONE_BENCH_REPORT")) {
    std::ofstream(path, std::ios::app) << op << '\t' << dtype_name(dtype) << '\t' << seconds * 1e3 << '\t' << shape
                                       << '\n';
  }
}

Tensor gpu_randn(const Shape& shape, DType dtype, uint64_t seed) {
  Tensor t = value_or_die(Tensor::empty(shape, dtype, Device::cuda()));
  Generator gen(seed);
  gen.fill_normal(t);
  return t;
}

Tensor gpu_ids(int64_t n, int64_t bound, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> ids(n);
  for (auto& id : ids) id = static_cast<int64_t>(gen.uniform() * bound);
  return value_or_die(value_or_die(Tensor::from_vector(ids, {n})).to(Device::cuda()));
}

struct Gemm {
  const char* what;
  int64_t m, n, k;
  bool trans_a, trans_b;
};

double bench_gemm() {
  // The peak: the best 8192³ bf16 product on random data (zeros run faster), as the trainer's MFU
  // measures it (cuda/blas.h).
  const int64_t p = 8192;
  const double peak = value_or_die(cuda::measure_gemm_peak_flops(DType::kBF16, 0, p));
  const double t_peak = 2.0 * p * p * p / peak;
  std::printf("## GEMM (cuBLAS through ops::matmul)\n\n");
  std::printf("Peak: bf16 %ld x %ld x %ld in %.3f ms = %.1f TFLOP/s (measured here; the %% column is against it).\n\n",
              p, p, p, t_peak * 1e3, peak * 1e-12);
  report("matmul", DType::kBF16, t_peak, "8192x8192x8192 (peak)");
  std::printf("| product | M | N | K | dtype | ms | TFLOP/s | %% of peak |\n|---|---|---|---|---|---|---|---|\n");
  // mone-925m with N = 8 x 2048 tokens: q/k/v projections, lm_head, one expert's share, a weight grad.
  const std::vector<Gemm> cases = {
      {"x W_qkvᵀ", 16384, 3072, 1024, false, true},
      {"lm_head x Wᵀ", 16384, 50304, 1024, false, true},
      {"expert up (2048 tokens)", 2048, 576, 1024, false, true},
      {"grad W = gᵀ x", 3072, 1024, 16384, true, false},
  };
  for (const Gemm& c : cases) {
    for (DType dtype : {DType::kF32, DType::kBF16}) {
      for (bool tf32 : {false, true}) {
        if (tf32 && dtype != DType::kF32) continue;
        const Tensor a = gpu_randn(c.trans_a ? Shape{c.k, c.m} : Shape{c.m, c.k}, dtype, 3);
        const Tensor b = gpu_randn(c.trans_b ? Shape{c.n, c.k} : Shape{c.k, c.n}, dtype, 4);
        cuda::set_allow_tf32(tf32);
        const double t = time_op("matmul", [&] { value_or_die(ops::matmul(a, b, c.trans_a, c.trans_b)); });
        cuda::set_allow_tf32(false);
        const double flops = 2.0 * c.m * c.n * c.k;
        const char* name = tf32 ? "f32+tf32" : dtype_name(dtype);
        std::printf("| %s | %ld | %ld | %ld | %s | %.3f | %.1f | %.1f |\n", c.what, c.m, c.n, c.k, name, t * 1e3,
                    flops / t * 1e-12, 100.0 * flops / t / peak);
        if (!tf32) {
          report("matmul", dtype, t, std::to_string(c.m) + "x" + std::to_string(c.n) + "x" + std::to_string(c.k));
        }
      }
    }
  }
  std::printf("\n");
  return peak;
}

// The expert GEMMs of one MoE layer at the mone-925m shape (d 1024, D 576, 16 routed experts,
// 16384 tokens x K 2 = 32768 rows, 2048 per expert): one cuBLAS GEMM per expert, which needs the
// offsets on the host (their copy and the sync are timed with it, as ops/mone_ffn_cuda.cpp pays
// them once per layer), against the grouped kernel, which reads them on the device.
void bench_grouped(double peak) {
  const int64_t d = 1024, D = 576, E = 16, R = 32768;
  std::printf("## Expert GEMMs of one MoE layer (16 experts x 2048 rows, d 1024, D 576)\n\n");
  std::printf("| product | dtype | per-expert cuBLAS ms | grouped kernel ms | cuBLAS / grouped | grouped TFLOP/s | %% of peak |\n"
              "|---|---|---|---|---|---|---|\n");
  std::vector<int64_t> host(E + 1);
  for (int64_t e = 0; e <= E; ++e) host[e] = e * (R / E);
  const Tensor offsets = value_or_die(value_or_die(Tensor::from_vector(host, {E + 1})).to(Device::cuda()));
  struct Product {
    const char* what;
    cuda::GroupedLayout layout;
    int64_t m, n, k;  // as cuda::GroupedGemm
  };
  const Product products[] = {
      {"x W_gateᵀ (forward)", cuda::GroupedLayout::kRowsTimesWt, 0, D, d},
      {"da W_gate (backward dx)", cuda::GroupedLayout::kRowsTimesW, 0, d, D},
      {"daᵀ x (backward dW_gate)", cuda::GroupedLayout::kWeightGrad, D, d, 0},
  };
  for (const Product& p : products) {
    const bool wg = p.layout == cuda::GroupedLayout::kWeightGrad;
    for (DType dt : {DType::kF32, DType::kBF16}) {
      const size_t es = dtype_size(dt);
      const Tensor a = gpu_randn(wg ? Shape{R, p.m} : Shape{R, p.k}, dt, 30);
      const Tensor b = gpu_randn(wg ? Shape{R, p.n} : Shape{E, p.n * p.k}, dt, 31);
      Tensor c = gpu_randn(wg ? Shape{E, p.m * p.n} : Shape{R, p.n}, dt, 32);
      const auto* pa = static_cast<const char*>(a.raw_data());
      const auto* pb = static_cast<const char*>(b.raw_data());
      auto* pc = static_cast<char*>(c.raw_data());
      const double t_blas = time_op("grouped_gemm", [&] {
        const std::vector<int64_t> seg = value_or_die(offsets.to(Device::cpu())).to_vector<int64_t>();
        for (int64_t e = 0; e < E; ++e) {
          const int64_t r0 = seg[e], rows = seg[e + 1] - r0;
          if (wg) {  // C[e] [M, N] = A[rows]ᵀ B[rows]
            MONE_CHECK_OK(cuda::gemm_batched(dt, 1, true, false, p.m, p.n, rows, 1.f, pa + r0 * p.m * es, p.m, 0,
                                             pb + r0 * p.n * es, p.n, 0, 0.f, pc + e * p.m * p.n * es, p.n, 0, 0,
                                             cuda::current_stream(), "grouped_gemm"));
          } else {
            const bool wt = p.layout == cuda::GroupedLayout::kRowsTimesWt;
            MONE_CHECK_OK(cuda::gemm_batched(dt, 1, false, wt, rows, p.n, p.k, 1.f, pa + r0 * p.k * es, p.k, 0,
                                             pb + e * p.n * p.k * es, wt ? p.k : p.n, 0, 0.f, pc + r0 * p.n * es,
                                             p.n, 0, 0, cuda::current_stream(), "grouped_gemm"));
          }
        }
      });
      const cuda::GroupedGemm g{p.layout, offsets.data<int64_t>(), E, R, p.m, p.n, p.k};
      const double t_grouped = time_op("grouped_gemm", [&] {
        const cudaError_t err = dt == DType::kBF16
                                    ? cuda::grouped_gemm<bf16>(g, a.data<bf16>(), b.data<bf16>(), 0.f, c.data<bf16>(),
                                                               cuda::current_stream())
                                    : cuda::grouped_gemm<float>(g, a.data<float>(), b.data<float>(), 0.f,
                                                                c.data<float>(), cuda::current_stream());
        MONE_CHECK(err == cudaSuccess) << "grouped_gemm: CUDA error " << static_cast<int>(err);
      });
      const double flops = 2.0 * R * (wg ? p.m * p.n : p.n * p.k);
      std::printf("| %s | %s | %.3f | %.3f | %.2f | %.1f | %.1f |\n", p.what, dtype_name(dt), t_blas * 1e3,
                  t_grouped * 1e3, t_blas / t_grouped, flops / t_grouped * 1e-12, 100.0 * flops / t_grouped / peak);
      report("grouped_gemm (per-expert cuBLAS)", dt, t_blas, p.what);
      report("grouped_gemm (grouped kernel)", dt, t_grouped, p.what);
    }
  }
  std::printf("\n");
}

// One row of the ops table: time, and bandwidth from the bytes the op must read and write once.
void row(const char* op, DType dtype, const std::string& shape, double bytes, const std::function<void()>& fn) {
  const double t = time_op(op, fn);
  std::printf("| %s | %s | %s | %.3f | %.0f |\n", op, dtype_name(dtype), shape.c_str(), t * 1e3, bytes / t * 1e-9);
  report(op, dtype, t, shape);
}

void bench_ops() {
  std::printf("## Dense ops at mone-925m sizes (N = 16384 tokens, d = 1024, V = 50304, H = 16, hd = 64)\n\n");
  std::printf("GB/s counts each input read once and each output written once.\n\n");
  std::printf("| op | dtype | shape | ms | GB/s |\n|---|---|---|---|---|\n");
  const int64_t N = 16384, d = 1024, V = 50304, H = 16, hd = 64, D = 576;
  for (DType dt : {DType::kF32, DType::kBF16}) {
    const double es = static_cast<double>(dtype_size(dt));
    const Tensor x = gpu_randn({N, d}, dt, 10), y = gpu_randn({N, d}, dt, 11), w = gpu_randn({d}, dt, 12);
    const std::string nd = "[16384, 1024]";
    row("add", dt, nd, 3 * N * d * es, [&] { value_or_die(ops::add(x, y)); });
    row("add_backward", dt, nd + " + [1024]", (N * d + d) * es,
        [&] { value_or_die(ops::add_backward(x, {N, d}, {d})); });
    row("sum", dt, nd, N * d * es, [&] { value_or_die(ops::sum(x)); });
    row("sum_last", dt, nd, (N * d + N) * es, [&] { value_or_die(ops::sum_last(x)); });
    const auto norm = value_or_die(ops::rmsnorm(x, w, 1e-6));
    row("rmsnorm", dt, nd, 2 * N * d * es, [&] { value_or_die(ops::rmsnorm(x, w, 1e-6)); });
    row("rmsnorm_backward", dt, nd, 3 * N * d * es,
        [&] { value_or_die(ops::rmsnorm_backward(y, x, w, norm.rstd)); });
    const Tensor q = value_or_die(x.reshape({8, 2048, H, hd}));
    row("rope", dt, "[8, 2048, 16, 64]", 2 * N * d * es, [&] { value_or_die(ops::rope(q, 0, 10000.0)); });
    const Tensor gate = gpu_randn({N, D}, dt, 13), up = gpu_randn({N, D}, dt, 14);
    row("swiglu", dt, "[16384, 576]", 3 * N * D * es, [&] { value_or_die(ops::swiglu(gate, up)); });
    row("swiglu_backward", dt, "[16384, 576]", 5 * N * D * es,
        [&] { value_or_die(ops::swiglu_backward(gate, gate, up)); });
    const Tensor scores = gpu_randn({N / 8, 2048}, dt, 15);
    row("softmax", dt, "[2048, 2048]", 2 * N / 8 * 2048 * es, [&] { value_or_die(ops::softmax(scores)); });
    const Tensor table = gpu_randn({V, d}, dt, 16), ids = gpu_ids(N, V, 17);
    row("embedding", dt, "[16384] of [50304, 1024]", (2 * N * d) * es + N * 8,
        [&] { value_or_die(ops::embedding(table, ids)); });
    row("embedding_backward", dt, "[16384] into [50304, 1024]", (N * d + V * d) * es + N * 8,
        [&] { value_or_die(ops::embedding_backward(x, ids, V)); });
    // The vocabulary head's loss on 4096 tokens (the logits of 16384 would be 3.3 GB in f32).
    const int64_t Nl = 4096;
    const Tensor logits = gpu_randn({Nl, V}, dt, 18), targets = gpu_ids(Nl, V, 19);
    const auto ce = value_or_die(ops::cross_entropy(logits, targets));
    const Tensor one = value_or_die(Tensor::full({}, 1.0).to(Device::cuda()));  // the loss's gradient: f32
    row("cross_entropy", dt, "[4096, 50304]", Nl * V * es, [&] { value_or_die(ops::cross_entropy(logits, targets)); });
    row("cross_entropy_backward", dt, "[4096, 50304]", 2 * Nl * V * es,
        [&] { value_or_die(ops::cross_entropy_backward(one, logits, targets, ce.lse, -1, ce.count)); });
  }
  // The optimizer on one expert's weights of every layer at once (24 x 3 x 1024 x 576 f32).
  const int64_t P = 24 * 3 * 1024 * 576;
  Tensor param = gpu_randn({P}, DType::kF32, 20), grad = gpu_randn({P}, DType::kF32, 21);
  Tensor m = gpu_randn({P}, DType::kF32, 22), v = value_or_die(ops::mul(m, m));
  int64_t step = 1;
  row("adamw_update", DType::kF32, "[42467328]", 7.0 * P * 4,
      [&] { MONE_CHECK_OK(ops::adamw_update(param, grad, m, v, {}, step++)); });
  const std::vector<Tensor> grads = {grad, m};
  row("global_grad_norm", DType::kF32, "2 x [42467328]", 2.0 * P * 4,
      [&] { value_or_die(ops::global_grad_norm(grads)); });
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      g_min_sample_s = 0.002;
    } else {
      std::fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
      return 2;
    }
  }
  if (cuda_device_count() == 0) {
    std::printf("mone_bench_cuda: no GPU visible (%s); nothing to measure\n", cuda::describe_devices().c_str());
    return 0;
  }
  const cuda::DeviceInfo info = value_or_die(cuda::device_info(0));
  std::printf("# mone_bench_cuda\n\n- GPU: %s, sm_%d%d, %d SMs, %.1f GiB, L2 %.0f MiB\n", info.name.c_str(), info.major,
              info.minor, info.multiprocessors, info.memory_bytes / 1073741824.0, info.l2_bytes / 1048576.0);
  bench::print_machine_line();
  std::printf("\n");
  const double peak = bench_gemm();
  bench_grouped(peak);
  bench_ops();
  return 0;
}

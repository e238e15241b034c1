// MoNE expert FFN benchmark (CPU, f32): forward and forward + backward of one expert's segment,
//   1. masked-dense vs gathered at K_N / D in {1/8, 1/4, 1/2}, for a prefill-sized segment
//      (T_e = 256) and for decode (T_e = 1);
//   2. MoNE (K_N = D/4) vs MoE (K_N = D, the plain SwiGLU expert) at equal total parameters
//      (the same d, D and weights);
//   3. the gathered down projection, W_down's selected columns read in place against a transposed
//      copy made per call, by T_e (where ops/cpu/mone_ffn.cpp switches from one to the other).
//
//   mone_bench_mone [--runs N] [--tokens T] [--d d] [--D D]
//     defaults: at least 9 timed runs after 2 warmups (more for short calls), T_e in {256, 1}, d = 512, D = 1024
//
// Shape letters as in ops/mone_ffn.h: T tokens of the expert, d model width, D expert width,
// K_N neurons kept. Each comparison alternates its two sides run by run, so a change in machine
// load hits both alike, and reports medians. Output is Markdown for docs/PERF.md.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "core/rng.h"
#include "ops/cpu/gathered.h"
#include "ops/mone_ffn.h"

using namespace mone;
using ops::Activation;
using ops::MoneStrategy;
using ops::TopkBackward;

namespace {

struct Options {
  int runs = 9;
  std::vector<int64_t> tokens{256, 1};
  int64_t d = 512;
  int64_t d_expert = 1024;
};

// One expert's problem: weights, input and an upstream gradient.
struct Problem {
  Tensor x, w_gate, w_up, w_down, dy;
};

Problem make_problem(int64_t tokens, int64_t d, int64_t d_expert) {
  Generator gen(42);
  const double s = 1.0 / std::sqrt(static_cast<double>(d));
  return {randn({tokens, d}, DType::kF32, gen), randn({d_expert, d}, DType::kF32, gen, 0.0, s),
          randn({d_expert, d}, DType::kF32, gen, 0.0, s), randn({d, d_expert}, DType::kF32, gen, 0.0, s),
          randn({tokens, d}, DType::kF32, gen)};
}

// A MoNE configuration to time: K_N and strategy; `backward` adds the HARD backward.
struct Variant {
  int64_t k_n;
  MoneStrategy strategy;
};

void run_variant(const Problem& p, const Variant& v, bool backward) {
  const ops::MoneFfnConfig c{v.k_n, Activation::kSilu, v.strategy, TopkBackward::kHard};
  auto f = value_or_die(ops::mone_ffn_forward(p.x, Tensor(), p.w_gate, p.w_up, p.w_down, c));
  if (!backward) return;
  value_or_die(ops::mone_ffn_backward(p.dy, Tensor(), p.x, Tensor(), p.w_gate, p.w_up, p.w_down, f, c));
}

// Reads a buffer three times the size of the last-level cache, so the next call finds its weights
// in DRAM, as at decode, where every layer's experts take turns.
void evict_caches() {
  static std::vector<float> junk(size_t{96} << 18, 1.0f);  // 96 MiB
  volatile float sink = 0.0f;
  float acc = 0.0f;
  for (size_t i = 0; i < junk.size(); i += 16) acc += junk[i];
  sink = acc;
  (void)sink;
}

bool g_cold = false;  // evict caches before every timed call

double seconds_of(const std::function<void()>& fn) {
  if (g_cold) evict_caches();
  return bench::seconds(fn);
}

// Median milliseconds of a and of b, alternating a, b, a, b after two warmups of each. Short
// calls get more runs (up to about 0.3 s per side, at most 301), so their medians are stable too.
std::pair<double, double> compare_ms(int runs, const std::function<void()>& a, const std::function<void()>& b) {
  a(), b();
  const double slowest = std::max(seconds_of(a), seconds_of(b));
  runs = std::clamp(static_cast<int>(0.3 / std::max(slowest, 1e-6)), runs, 301) | 1;
  std::vector<double> ta, tb;
  for (int r = 0; r < runs; ++r) {
    ta.push_back(1e3 * seconds_of(a));
    tb.push_back(1e3 * seconds_of(b));
  }
  return {bench::median(ta), bench::median(tb)};
}

// False (after a message) on an unknown flag.
bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int64_t value = std::atoll(argv[i + 1]);
    if (flag == "--runs") o.runs = static_cast<int>(std::max<int64_t>(1, value));
    else if (flag == "--tokens") o.tokens = {value};
    else if (flag == "--d") o.d = value;
    else if (flag == "--D") o.d_expert = value;
    else {
      std::fprintf(stderr, "mone_bench_mone: unknown flag %s (flags: --runs, --tokens, --d, --D)\n", flag.c_str());
      return false;
    }
  }
  return true;
}

// The gathered down projection of T_e rows, y_t = Σ_k h_tk W_down[:, I_tk], as up_down_gathered
// computes it: W_down's columns read in place, or rows of a transposed copy made first.
struct DownProjection {
  int64_t rows, k_n, d, D;
  std::vector<float> w_down, h, y, w_down_t;
  std::vector<int32_t> ids;

  DownProjection(int64_t rows_, int64_t k_n_, int64_t d_, int64_t D_)
      : rows(rows_), k_n(k_n_), d(d_), D(D_), w_down(d_ * D_), h(rows_ * k_n_), y(rows_ * d_), w_down_t(d_ * D_) {
    Generator gen(7);
    w_down = randn({d, D}, DType::kF32, gen).to_vector<float>();
    h = randn({rows, k_n}, DType::kF32, gen).to_vector<float>();
    std::vector<int32_t> all(D);
    for (int64_t t = 0; t < rows; ++t) {  // K_N distinct neurons per row, ascending, as the top-k gives them
      for (int64_t j = 0; j < D; ++j) all[j] = static_cast<int32_t>((j * 7919 + t * 104729) % D);
      std::sort(all.begin(), all.begin() + k_n);
      ids.insert(ids.end(), all.begin(), all.begin() + k_n);
    }
  }
  void run(bool in_place) {
    if (!in_place) ops::cpu::transpose(w_down.data(), d, D, w_down_t.data());
    for (int64_t t = 0; t < rows; ++t) {
      const int32_t* sel = ids.data() + t * k_n;
      if (in_place) {
        ops::cpu::gather_columns_axpy(w_down.data(), d, D, sel, h.data() + t * k_n, k_n, y.data() + t * d);
      } else {
        ops::cpu::gather_axpy(w_down_t.data(), sel, h.data() + t * k_n, k_n, d, y.data() + t * d);
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  bench::print_machine_line();
  std::printf("- f32, silu, HARD estimator; d = %ld, D = %ld; median of at least %d runs (up to 301 for short calls) after 2 warmups\n\n",
              static_cast<long>(o.d), static_cast<long>(o.d_expert), o.runs);

  std::printf("### Masked-dense vs gathered (one expert, HARD)\n\n");
  std::printf("| T_e | K_N/D | pass | masked-dense ms | gathered ms | masked / gathered |\n");
  std::printf("|---:|---:|---|---:|---:|---:|\n");
  for (int64_t tokens : o.tokens) {
    const Problem p = make_problem(tokens, o.d, o.d_expert);
    for (int64_t div : {8, 4, 2}) {
      const int64_t k_n = o.d_expert / div;
      for (bool backward : {false, true}) {
        auto [masked, gathered] = compare_ms(
            o.runs, [&] { run_variant(p, {k_n, MoneStrategy::kMaskedDense}, backward); },
            [&] { run_variant(p, {k_n, MoneStrategy::kGathered}, backward); });
        std::printf("| %ld | 1/%ld | %s | %.3f | %.3f | %.2f |\n", static_cast<long>(tokens), static_cast<long>(div),
                    backward ? "fwd+bwd" : "fwd", masked, gathered, masked / gathered);
        std::fflush(stdout);
      }
    }
  }

  std::printf("\n### Crossover: masked-dense time / gathered time by segment size (> 1: gathered is faster)\n\n");
  std::printf("| T_e | fwd 1/8 | fwd 1/4 | fwd 1/2 | fwd+bwd 1/8 | fwd+bwd 1/4 | fwd+bwd 1/2 |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int64_t tokens : {1, 4, 16, 64, 256}) {
    const Problem p = make_problem(tokens, o.d, o.d_expert);
    std::printf("| %ld |", static_cast<long>(tokens));
    for (bool backward : {false, true}) {
      for (int64_t div : {8, 4, 2}) {
        const int64_t k_n = o.d_expert / div;
        auto [masked, gathered] = compare_ms(
            o.runs, [&] { run_variant(p, {k_n, MoneStrategy::kMaskedDense}, backward); },
            [&] { run_variant(p, {k_n, MoneStrategy::kGathered}, backward); });
        std::printf(" %.2f |", masked / gathered);
        std::fflush(stdout);
      }
    }
    std::printf("\n");
  }

  std::printf("\n### MoNE (K_N = D/4) vs MoE (K_N = D) at equal total parameters\n\n");
  std::printf("| T_e | pass | MoE ms | MoNE masked-dense ms | MoNE gathered ms | best MoNE / MoE |\n");
  std::printf("|---:|---|---:|---:|---:|---:|\n");
  for (int64_t tokens : o.tokens) {
    const Problem p = make_problem(tokens, o.d, o.d_expert);
    const Variant moe{o.d_expert, MoneStrategy::kMaskedDense};
    for (bool backward : {false, true}) {
      double best = 1e300, ms[2] = {0, 0}, moe_ms = 0;
      for (MoneStrategy s : {MoneStrategy::kMaskedDense, MoneStrategy::kGathered}) {
        auto [m, mone] = compare_ms(
            o.runs, [&] { run_variant(p, moe, backward); }, [&] { run_variant(p, {o.d_expert / 4, s}, backward); });
        ms[s == MoneStrategy::kGathered] = mone;
        moe_ms = s == MoneStrategy::kMaskedDense ? m : std::min(moe_ms, m);
        best = std::min(best, mone);
      }
      std::printf("| %ld | %s | %.3f | %.3f | %.3f | %.2f |\n", static_cast<long>(tokens),
                  backward ? "fwd+bwd" : "fwd", moe_ms, ms[0], ms[1], best / moe_ms);
      std::fflush(stdout);
    }
  }

  std::printf("\n### Gathered down projection: transposed-copy time / in-place time (> 1: in place is faster)\n\n");
  std::printf("| T_e | 1/8 | 1/4 | 1/2 | T_e K_N / D at 1/8, 1/4, 1/2 |\n");
  std::printf("|---:|---:|---:|---:|---|\n");
  for (int64_t tokens : {1, 2, 4, 8, 16, 32}) {
    std::printf("| %ld |", static_cast<long>(tokens));
    for (int64_t div : {8, 4, 2}) {
      DownProjection dp(tokens, o.d_expert / div, o.d, o.d_expert);
      auto [copy, in_place] = compare_ms(o.runs, [&] { dp.run(false); }, [&] { dp.run(true); });
      std::printf(" %.2f |", copy / in_place);
      std::fflush(stdout);
    }
    std::printf(" %g, %g, %g |\n", tokens / 8.0, tokens / 4.0, tokens / 2.0);
  }

  std::printf("\n### Decode (T_e = 1) forward with cold caches (weights read from DRAM)\n\n");
  std::printf("| K_N/D | MoE ms | masked-dense ms | gathered ms | masked / gathered | gathered / MoE |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|\n");
  g_cold = true;
  const Problem p = make_problem(1, o.d, o.d_expert);
  for (int64_t div : {8, 4, 2}) {
    const int64_t k_n = o.d_expert / div;
    auto [masked, gathered] = compare_ms(
        o.runs, [&] { run_variant(p, {k_n, MoneStrategy::kMaskedDense}, false); },
        [&] { run_variant(p, {k_n, MoneStrategy::kGathered}, false); });
    auto [moe, gathered2] = compare_ms(
        o.runs, [&] { run_variant(p, {o.d_expert, MoneStrategy::kMaskedDense}, false); },
        [&] { run_variant(p, {k_n, MoneStrategy::kGathered}, false); });
    std::printf("| 1/%ld | %.3f | %.3f | %.3f | %.2f | %.2f |\n", static_cast<long>(div), moe, masked, gathered,
                masked / gathered, gathered2 / moe);
    std::fflush(stdout);
  }
  return 0;
}

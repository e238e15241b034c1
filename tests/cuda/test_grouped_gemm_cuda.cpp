// The grouped expert GEMM (cuda/grouped_gemm.h). "unit", on the CPU, with the code the kernel runs
// (cuda/grouped_gemm_tiles.h): the row-tile map cuts every expert's rows into tiles of at most 64
// that cover each row once, in expert order, and refuses the tiles past the last; the staging
// order visits each element of a slice once; and every block of the grid, emulated in f32 (the
// SIMT engine's sums), gives each layout's products to 1e-5 of loops in f64, with and without
// accumulation into C. Cases: empty experts, one row, every row in one expert, no rows, no offsets.
// "cuda": the kernels against the same f64 loops on the same (bf16-rounded) values, to 1e-5 (f32)
// and 1/128 (bf16); two runs give the same bits.
// Shape letters: R rows, E experts, M and N a product's output dims, K the contracted width.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "cuda/grouped_gemm.h"
#include "cuda/grouped_gemm_tiles.h"
#include "cuda/runtime.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;
using cuda::GroupedLayout;

namespace {

// Rows per expert; an empty list means no offsets (one expert over kSingleRows rows).
struct GroupedCase {
  const char* what;
  std::vector<int64_t> counts;
};
constexpr int64_t kSingleRows = 131;
const GroupedCase kGroupedCases[] = {
    {"no offsets", {}},
    {"one row", {1}},
    {"empty experts between and around", {0, 70, 1, 0, 129, 0}},
    {"every row in one expert", {0, 0, 200}},
    {"no rows at all", {0, 0, 0}},
    {"sixteen experts", {5, 64, 65, 0, 3, 128, 1, 77, 12, 0, 31, 64, 9, 100, 2, 17}},
};

std::vector<int64_t> offsets_of(const std::vector<int64_t>& counts) {
  std::vector<int64_t> o(counts.size() + 1, 0);
  std::partial_sum(counts.begin(), counts.end(), o.begin() + 1);
  return o;
}

// The expert of every row as locate_row_tile's tiles assign it, or -1 for a row no tile holds;
// CHECKs each tile's shape and that no row is held twice.
std::vector<int64_t> tile_owners(const std::vector<int64_t>& counts) {
  const std::vector<int64_t> o = offsets_of(counts);
  const bool none = counts.empty();
  const int64_t experts = none ? 1 : static_cast<int64_t>(counts.size());
  const int64_t rows = none ? kSingleRows : o.back();
  const int64_t* offsets = none ? nullptr : o.data();
  std::vector<int64_t> owner(rows, -1);
  int64_t last_expert = 0, last_row = 0, found = 0;
  const int64_t bound = cuda::row_tile_bound(rows, experts);
  for (int64_t tile = 0; tile < bound; ++tile) {
    int64_t e = -1, r0 = -1, r1 = -1;
    if (!cuda::locate_row_tile(offsets, experts, rows, tile, &e, &r0, &r1)) {
      // Past the last tile every tile is refused.
      for (int64_t later = tile; later < bound + 3; ++later) {
        CHECK_FALSE(cuda::locate_row_tile(offsets, experts, rows, later, &e, &r0, &r1));
      }
      break;
    }
    ++found;
    CHECK(r0 < r1);
    CHECK(r1 - r0 <= cuda::kGroupedTile);
    CHECK(e >= last_expert);  // expert order
    CHECK(r0 == last_row);    // each tile starts where the last ended (empty experts own none)
    const int64_t first = none ? 0 : o[e], end = none ? rows : o[e + 1];
    CHECK(r0 >= first);
    CHECK(r1 <= end);
    for (int64_t r = r0; r < r1; ++r) {
      CHECK(owner[r] == -1);
      owner[r] = e;
    }
    last_expert = e;
    last_row = r1;
  }
  int64_t tiles = 0;
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t n = none ? rows : counts[e];
    tiles += (n + cuda::kGroupedTile - 1) / cuda::kGroupedTile;
  }
  CHECK(found == tiles);
  CHECK(tiles <= bound);
  return owner;
}

// f64 reference of one layout over row-major a, b and c_old (beta 0 or 1), per the header.
std::vector<double> reference(GroupedLayout layout, const std::vector<int64_t>& o, int64_t experts, int64_t m,
                              int64_t n, int64_t k, const std::vector<double>& a, const std::vector<double>& b,
                              const std::vector<double>& c_old, double beta) {
  std::vector<double> c = c_old;
  for (double& v : c) v *= beta;
  for (int64_t e = 0; e < experts; ++e) {
    for (int64_t r = o[e]; r < o[e + 1]; ++r) {
      if (layout == GroupedLayout::kWeightGrad) {
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) c[(e * m + i) * n + j] += a[r * m + i] * b[r * n + j];
        }
        continue;
      }
      for (int64_t j = 0; j < n; ++j) {
        double s = 0.0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const double w = layout == GroupedLayout::kRowsTimesWt ? b[(e * n + j) * k + kk] : b[(e * k + kk) * n + j];
          s += a[r * k + kk] * w;
        }
        c[r * n + j] += s;
      }
    }
  }
  return c;
}

// The grid of one call run on the CPU: every block's TileJob, each output its f32 sum over the
// contracted range in order (the SIMT engine's fmaf), stored through the job's OutTile.
void emulate_grid(const cuda::GroupedGemm& g, const float* a, const float* b, float beta, float* c) {
  const auto run = [](const cuda::TileJob<float>& job) {
    for (int i = 0; i < cuda::kGroupedTile; ++i) {
      for (int j = 0; j < cuda::kGroupedTile; ++j) {
        float acc = 0.0f;
        for (int64_t kk = job.k_begin; kk < job.k_end; ++kk) acc = std::fma(job.lhs.at(i, kk), job.rhs.at(j, kk), acc);
        job.out.put(job.c, i, j, acc);
      }
    }
  };
  const int64_t tile = cuda::kGroupedTile, col_tiles = (g.n + tile - 1) / tile;
  if (g.layout == GroupedLayout::kWeightGrad) {
    for (int64_t e = 0; e < g.experts; ++e) {
      for (int64_t mt = 0; mt < (g.m + tile - 1) / tile; ++mt) {
        for (int64_t nt = 0; nt < col_tiles; ++nt) run(cuda::weight_grad_job(g, a, b, beta, c, e, mt, nt));
      }
    }
    return;
  }
  for (int64_t rt = 0; rt < cuda::row_tile_bound(g.rows, g.experts); ++rt) {
    for (int64_t ct = 0; ct < col_tiles; ++ct) {
      cuda::TileJob<float> job;
      if (cuda::rows_job(g, a, b, beta, c, rt, ct, &job)) run(job);
    }
  }
}

const char* layout_name(GroupedLayout l) {
  switch (l) {
    case GroupedLayout::kRowsTimesWt: return "rows x W^T";
    case GroupedLayout::kRowsTimesW: return "rows x W";
    case GroupedLayout::kWeightGrad: return "weight grad";
  }
  return "?";
}

template <typename T>
Tensor run_grouped(const cuda::GroupedGemm& g, const Tensor& a, const Tensor& b, float beta, const Tensor& c_old) {
  Tensor c = to_gpu(c_old);
  const cudaError_t e = cuda::grouped_gemm<T>(g, a.data<T>(), b.data<T>(), beta, c.data<T>(), cuda::current_stream());
  REQUIRE(e == cudaSuccess);
  REQUIRE(cuda::synchronize(cuda::current_stream(), "grouped_gemm").ok());
  return c;
}

// One case's operands (a, b, C's old values) and the f64 reference of the product.
struct Problem {
  std::vector<int64_t> offsets;  // [E + 1]
  bool no_offsets;
  int64_t E, R, M = 33, N = 70, K = 37;  // none a multiple of the 64 x 64 tile or of the step of 16
  Input a, b, c_old;
  std::vector<double> want;
};

Problem problem(const GroupedCase& gc, GroupedLayout layout, DType dtype, float beta) {
  Problem p;
  p.no_offsets = gc.counts.empty();
  p.offsets = p.no_offsets ? std::vector<int64_t>{0, kSingleRows} : offsets_of(gc.counts);
  p.E = static_cast<int64_t>(p.offsets.size()) - 1;
  p.R = p.offsets.back();
  const bool wg = layout == GroupedLayout::kWeightGrad;
  Generator gen(17);
  p.a = random_input(wg ? Shape{p.R, p.M} : Shape{p.R, p.K}, dtype, gen);
  p.b = random_input(wg ? Shape{p.R, p.N}
                        : (layout == GroupedLayout::kRowsTimesWt ? Shape{p.E, p.N, p.K} : Shape{p.E, p.K, p.N}),
                     dtype, gen);
  p.c_old = random_input(wg ? Shape{p.E, p.M, p.N} : Shape{p.R, p.N}, dtype, gen);
  p.want = reference(layout, p.offsets, p.E, p.M, p.N, p.K, p.a.f64.to_vector<double>(), p.b.f64.to_vector<double>(),
                     p.c_old.f64.to_vector<double>(), beta);
  return p;
}

template <typename T>
void check_case(const GroupedCase& gc, GroupedLayout layout, DType dtype, float beta) {
  CAPTURE(gc.what);
  CAPTURE(layout_name(layout));
  CAPTURE(dtype_name(dtype));
  CAPTURE(beta);
  const Problem p = problem(gc, layout, dtype, beta);
  const Tensor offsets = to_gpu(value_or_die(Tensor::from_vector(p.offsets, {p.E + 1})));
  const cuda::GroupedGemm g{layout, p.no_offsets ? nullptr : offsets.data<int64_t>(), p.E, p.R, p.M, p.N, p.K};
  const Tensor a_gpu = to_gpu(p.a.x), b_gpu = to_gpu(p.b.x);
  const Tensor got = run_grouped<T>(g, a_gpu, b_gpu, beta, p.c_old.x);
  const std::vector<double> got_v = to_cpu(got).to_vector<double>();
  const double err = normwise_error(got_v, p.want, 1.0);
  const double tol = dtype == DType::kBF16 ? 1.0 / 128 : 1e-5;
  CHECK_MESSAGE(err <= tol, "error ", err, " > tolerance ", tol);
  if (const char* path = std::getenv("MONE_CUDA_REPORT")) {
    std::ofstream(path, std::ios::app) << "grouped_gemm " << layout_name(layout) << '\t' << dtype_name(dtype) << '\t'
                                       << err << '\t' << tol << '\n';
  }
  CHECK(bitwise_equal(run_grouped<T>(g, a_gpu, b_gpu, beta, p.c_old.x), got));
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("grouped GEMM staging: each element of a 64 x 16 slice once, the contiguous index fastest") {
    for (bool k_fastest : {false, true}) {
      std::vector<int> seen(cuda::kGroupedTile * cuda::kGroupedStep, 0);
      for (int e = 0; e < static_cast<int>(seen.size()); ++e) {
        int i = -1, kk = -1;
        cuda::stage_index(e, k_fastest, &i, &kk);
        REQUIRE(i >= 0);
        REQUIRE(i < cuda::kGroupedTile);
        REQUIRE(kk >= 0);
        REQUIRE(kk < cuda::kGroupedStep);
        ++seen[i * cuda::kGroupedStep + kk];
        if (e > 0 && e % (k_fastest ? cuda::kGroupedStep : cuda::kGroupedTile) != 0) {
          int pi = -1, pk = -1;
          cuda::stage_index(e - 1, k_fastest, &pi, &pk);
          CHECK((k_fastest ? (pi == i && pk + 1 == kk) : (pk == kk && pi + 1 == i)));
        }
      }
      for (int n : seen) CHECK(n == 1);
    }
  }

  TEST_CASE("grouped GEMM blocks emulated on the CPU: every layout against f64 loops") {
    for (const GroupedCase& gc : kGroupedCases) {
      for (GroupedLayout layout : {GroupedLayout::kRowsTimesWt, GroupedLayout::kRowsTimesW, GroupedLayout::kWeightGrad}) {
        for (float beta : {0.0f, 1.0f}) {
          CAPTURE(gc.what);
          CAPTURE(layout_name(layout));
          CAPTURE(beta);
          const Problem p = problem(gc, layout, DType::kF32, beta);
          const cuda::GroupedGemm g{layout, p.no_offsets ? nullptr : p.offsets.data(), p.E, p.R, p.M, p.N, p.K};
          std::vector<float> c = p.c_old.x.to_vector<float>();
          emulate_grid(g, p.a.x.data<float>(), p.b.x.data<float>(), beta, c.data());
          const std::vector<double> got(c.begin(), c.end());
          CHECK(normwise_error(got, p.want, 1.0) <= 1e-5);
        }
      }
    }
  }

  TEST_CASE("grouped GEMM row tiles: every row once, in expert order, at most 64 rows of one expert") {
    for (const GroupedCase& gc : kGroupedCases) {
      CAPTURE(gc.what);
      const std::vector<int64_t> owner = tile_owners(gc.counts);
      const std::vector<int64_t> o = gc.counts.empty() ? std::vector<int64_t>{0, kSingleRows} : offsets_of(gc.counts);
      for (int64_t e = 0; e + 1 < static_cast<int64_t>(o.size()); ++e) {
        for (int64_t r = o[e]; r < o[e + 1]; ++r) CHECK(owner[r] == e);
      }
    }
  }
}

TEST_SUITE("cuda") {
  TEST_CASE("grouped GEMM against f64 loops: three layouts, f32 and bf16, with and without accumulation") {
    if (skip_without_gpu()) return;
    for (const GroupedCase& gc : kGroupedCases) {
      for (GroupedLayout layout : {GroupedLayout::kRowsTimesWt, GroupedLayout::kRowsTimesW, GroupedLayout::kWeightGrad}) {
        for (float beta : {0.0f, 1.0f}) {
          check_case<float>(gc, layout, DType::kF32, beta);
          check_case<bf16>(gc, layout, DType::kBF16, beta);
        }
      }
    }
  }
}

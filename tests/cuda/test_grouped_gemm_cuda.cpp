// The grouped expert GEMM (cuda/grouped_gemm.h). "unit": the row-tile map on the CPU (the code the
// kernel runs) cuts every expert's rows into tiles of at most 64 that cover each row once, in
// expert order, and refuses the tiles past the last, for empty experts, one row, every row in one
// expert and no offsets. "cuda": each layout against loops in f64 on the same (bf16-rounded)
// values, with and without accumulation into C, to 1e-5 (f32) and 1/128 (bf16), over the same
// offsets; two runs give the same bits.
// Shape letters: R rows, E experts, M and N a product's output dims, K the contracted width.
#include <doctest/doctest.h>

#include <numeric>
#include <string>
#include <vector>

#include "cuda/grouped_gemm.h"
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

template <typename T>
void check_case(const GroupedCase& gc, GroupedLayout layout, DType dtype, float beta) {
  CAPTURE(gc.what);
  CAPTURE(layout_name(layout));
  CAPTURE(dtype_name(dtype));
  CAPTURE(beta);
  const bool none = gc.counts.empty();
  const std::vector<int64_t> o = none ? std::vector<int64_t>{0, kSingleRows} : offsets_of(gc.counts);
  const int64_t E = static_cast<int64_t>(o.size()) - 1, R = o.back();
  const int64_t M = 33, N = 70, K = 37;  // none a multiple of the 64 x 64 tile or of the step of 16
  const bool wg = layout == GroupedLayout::kWeightGrad;
  Generator gen(17);
  const Input a = random_input(wg ? Shape{R, M} : Shape{R, K}, dtype, gen);
  const Input b = random_input(wg ? Shape{R, N} : (layout == GroupedLayout::kRowsTimesWt ? Shape{E, N, K} : Shape{E, K, N}),
                               dtype, gen);
  const Input c_old = random_input(wg ? Shape{E, M, N} : Shape{R, N}, dtype, gen);
  const std::vector<double> want =
      reference(layout, o, E, M, N, K, a.f64.to_vector<double>(), b.f64.to_vector<double>(),
                c_old.f64.to_vector<double>(), beta);

  const Tensor offsets = to_gpu(value_or_die(Tensor::from_vector(o, {E + 1})));
  const cuda::GroupedGemm g{layout, none ? nullptr : offsets.data<int64_t>(), E, R, M, N, K};
  const Tensor a_gpu = to_gpu(a.x), b_gpu = to_gpu(b.x);
  const Tensor got = run_grouped<T>(g, a_gpu, b_gpu, beta, c_old.x);
  const std::vector<double> got_v = to_cpu(got).to_vector<double>();
  const double err = normwise_error(got_v, want, 1.0);
  const double tol = dtype == DType::kBF16 ? 1.0 / 128 : 1e-5;
  CHECK_MESSAGE(err <= tol, "error ", err, " > tolerance ", tol);
  if (const char* path = std::getenv("MONE_CUDA_REPORT")) {
    std::ofstream(path, std::ios::app) << "grouped_gemm " << layout_name(layout) << '\t' << dtype_name(dtype) << '\t'
                                       << err << '\t' << tol << '\n';
  }
  CHECK(bitwise_equal(run_grouped<T>(g, a_gpu, b_gpu, beta, c_old.x), got));
}

}  // namespace

TEST_SUITE("unit") {
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

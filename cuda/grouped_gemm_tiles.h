// The index arithmetic of the grouped expert GEMM's blocks (cuda/grouped_gemm.cu), in code that
// nvcc and the host compiler both compile, so tests/cuda emulates every block on the CPU in f32
// and checks the products against loops in f64 without a GPU (as the attention tiles are).
//
// A block of the kernel owns a 64 x 64 tile of outputs. It reads each operand as
// (output index i < 64, contracted index kk) -> value through an Operand, zero outside the
// operand, and writes its outputs through an OutTile, which drops those outside C and adds C's old
// value when beta is 1.
// Shape letters: as cuda/grouped_gemm.h.
#pragma once

#include <cstdint>

#include "cuda/grouped_gemm.h"
#include "cuda/hd.h"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#endif

namespace mone::cuda {

inline constexpr int kGroupedStep = 16;  // contracted indices per shared-memory stage

// Loads and stores of an element as f32 (bf16 only where nvcc compiles).
MONE_HD float tile_load(float x) { return x; }
MONE_HD void tile_store(float* p, float v) { *p = v; }
#if defined(__CUDACC__)
MONE_HD float tile_load(__nv_bfloat16 x) { return __bfloat162float(x); }
MONE_HD void tile_store(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }
#endif

template <typename D>
struct Operand {
  const D* p;
  int64_t stride_out, stride_k;  // element offset = (base + i) · stride_out + kk · stride_k
  int64_t out_end, base, k_end;  // the output index base + i < out_end; the contracted index kk < k_end
  bool k_fastest;                // contiguous along kk: consecutive threads walk kk when staging
  MONE_HD float at(int i, int64_t kk) const {
    const int64_t o = base + i;
    return o < out_end && kk < k_end ? tile_load(p[o * stride_out + kk * stride_k]) : 0.0f;
  }
};

// Element e < 64 · 16 of a staged slice: its output index *i and contracted offset *kk, so that
// consecutive e walk the operand's contiguous dimension.
MONE_HD void stage_index(int e, bool k_fastest, int* i, int* kk) {
  *i = k_fastest ? e / kGroupedStep : e % static_cast<int>(kGroupedTile);
  *kk = k_fastest ? e % kGroupedStep : e / static_cast<int>(kGroupedTile);
}

struct OutTile {
  int64_t ldc, row0, row_end, col0, col_end;
  float beta;
  // c[(row0 + i) · ldc + col0 + j] = v (+ its old value with beta 1), inside [row_end, col_end) only.
  template <typename D>
  MONE_HD void put(D* c, int i, int j, float v) const {
    const int64_t row = row0 + i, col = col0 + j;
    if (row >= row_end || col >= col_end) return;
    D* out = c + row * ldc + col;
    tile_store(out, beta != 0.0f ? v + beta * tile_load(*out) : v);
  }
};

// One block's operands, its contracted range [k_begin, k_end) and its output tile.
template <typename D>
struct TileJob {
  Operand<D> lhs, rhs;
  int64_t k_begin, k_end;
  D* c;
  OutTile out;
};

// kRowsTimesWt / kRowsTimesW: row tile `row_tile` (locate_row_tile) by column tile `col_tile`;
// false for a row tile past the last.
template <typename D>
MONE_HD bool rows_job(const GroupedGemm& g, const D* a, const D* b, float beta, D* c, int64_t row_tile,
                      int64_t col_tile, TileJob<D>* job) {
  int64_t e, row0, row1;
  if (!locate_row_tile(g.offsets, g.experts, g.rows, row_tile, &e, &row0, &row1)) return false;
  const int64_t col0 = col_tile * kGroupedTile;
  const bool wt = g.layout == GroupedLayout::kRowsTimesWt;  // B[e] is [N, K], contiguous along K
  job->lhs = Operand<D>{a, g.k, 1, row1, row0, g.k, true};
  job->rhs = Operand<D>{b + e * g.n * g.k, wt ? g.k : 1, wt ? 1 : g.n, g.n, col0, g.k, wt};
  job->k_begin = 0;
  job->k_end = g.k;
  job->c = c;
  job->out = OutTile{g.n, row0, row1, col0, g.n, beta};
  return true;
}

// kWeightGrad: expert e's M-tile `m_tile` by N-tile `n_tile`, contracted over its rows. Both
// operands are contiguous along their columns (the output index).
template <typename D>
MONE_HD TileJob<D> weight_grad_job(const GroupedGemm& g, const D* a, const D* b, float beta, D* c, int64_t e,
                                   int64_t m_tile, int64_t n_tile) {
  const int64_t first = g.offsets == nullptr ? 0 : g.offsets[e];
  const int64_t end = g.offsets == nullptr ? g.rows : g.offsets[e + 1];
  const int64_t m0 = m_tile * kGroupedTile, n0 = n_tile * kGroupedTile;
  return TileJob<D>{Operand<D>{a, 1, g.m, g.m, m0, end, false}, Operand<D>{b, 1, g.n, g.n, n0, end, false}, first,
                    end, c + e * g.m * g.n, OutTile{g.n, m0, g.m, n0, g.n, beta}};
}

}  // namespace mone::cuda

// Grouped expert GEMMs: one launch computes a product for every expert over its contiguous rows,
// reading the rows' offsets on the device, so no host copy of them (and no device-to-host sync)
// is needed. The alternative, one cuBLAS GEMM per expert (ops/mone_ffn_cuda.cpp), needs the
// offsets on the host. Three products, for expert e's rows [o_e, o_{e+1}) of row-major operands:
//
//   kRowsTimesWt   C[rows] = A[rows] · B[e]ᵀ (+ C)   A [R, K], B [E, N, K], C [R, N]   forward: x W_gateᵀ, H W_downᵀ
//   kRowsTimesW    C[rows] = A[rows] · B[e]  (+ C)   A [R, K], B [E, K, N], C [R, N]   backward: dx = da W_gate, dH = dy W_down
//   kWeightGrad    C[e] = A[rows]ᵀ · B[rows] (+ C[e]) A [R, M], B [R, N], C [E, M, N]  backward: dW_gate[e] = daᵀ x
//
// "(+ C)" when beta is 1; with beta 0, C's old contents are ignored (never read). An expert
// without rows gets C[e] = 0 (or keeps C[e] with beta 1) from kWeightGrad and owns no rows of the
// other two.
//
// The kernel (cuda/grouped_gemm.cu): tiles of kGroupedTile x kGroupedTile outputs, one block
// each, summed in f32 (f32: SIMT FMAs in ascending order of the contracted index; bf16: WMMA
// tensor-core fragments) and rounded once to T on the store: deterministic, no atomics. Row tiles
// never straddle two experts: the grid has row_tile_bound(R, E) row tiles and each block finds its
// (expert, rows) with locate_row_tile; the blocks past the last tile return at once. A first,
// plain kernel (operands staged element by element, no pipelining): bench_cuda measures it
// against the per-expert cuBLAS loop, which stays the ops' path until the grouped one wins there.
//
// Shape letters: R rows, E experts, M and N a product's output dims, K the contracted width.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/hd.h"
#include "cuda/launch.h"

namespace mone::cuda {

enum class GroupedLayout { kRowsTimesWt, kRowsTimesW, kWeightGrad };

struct GroupedGemm {
  GroupedLayout layout;
  const int64_t* offsets;  // [E + 1] on the device, rising from 0 to R; nullptr: one expert, all R rows
  int64_t experts;         // E
  int64_t rows;            // R
  int64_t m;               // kWeightGrad: A's columns (C[e] is [M, N]); unused by the others
  int64_t n;               // N, the output's columns
  int64_t k;               // K, the contracted width (kRowsTimes*); kWeightGrad contracts over the rows
};

// C as above, on `stream`. T = float or mone::bf16; every operand is T.
template <typename T>
cudaError_t grouped_gemm(const GroupedGemm& g, const T* a, const T* b, float beta, T* c, cudaStream_t stream);

// ---- the tile map (host and device; tested on the CPU) ---------------------------------------

inline constexpr int64_t kGroupedTile = 64;

// Row tiles enough for any offsets: Σ_e ceil(n_e / 64) <= ceil(R / 64) + E.
MONE_HD int64_t row_tile_bound(int64_t rows, int64_t experts) {
  return (rows + kGroupedTile - 1) / kGroupedTile + experts;
}

// Row tile `tile` in expert order (each expert's rows cut into tiles of 64 from its first row):
// its expert and rows [*row0, *row1); false when `tile` is past the last one. offsets [E + 1] as in
// GroupedGemm (nullptr: one expert over `rows`).
MONE_HD bool locate_row_tile(const int64_t* offsets, int64_t experts, int64_t rows, int64_t tile, int64_t* expert,
                             int64_t* row0, int64_t* row1) {
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t first = offsets == nullptr ? 0 : offsets[e];
    const int64_t end = offsets == nullptr ? rows : offsets[e + 1];
    const int64_t tiles = (end - first + kGroupedTile - 1) / kGroupedTile;
    if (tile < tiles) {
      *expert = e;
      *row0 = first + tile * kGroupedTile;
      *row1 = *row0 + kGroupedTile < end ? *row0 + kGroupedTile : end;
      return true;
    }
    tile -= tiles;
  }
  return false;
}

#define MONE_CUDA_GROUPED_GEMM_LAUNCHERS(T) \
  template cudaError_t grouped_gemm<T>(const GroupedGemm&, const T*, const T*, float, T*, cudaStream_t);

}  // namespace mone::cuda

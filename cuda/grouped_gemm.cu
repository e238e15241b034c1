// The grouped expert GEMM of cuda/grouped_gemm.h. One block per 64 x 64 tile of outputs (its
// operands, range and outputs: a TileJob of cuda/grouped_gemm_tiles.h); per step of 16 along the
// contracted index the block stages a 64 x 16 slice of each operand in shared memory (zero past
// the edges), then multiplies the slices:
//   f32:  256 threads (SIMT), each a 4 x 4 patch of outputs (rows 4·ty.., columns 4·tx..), adding
//         the 16 products in order with fmaf;
//   bf16: 128 threads, 4 warps, each a 32 x 32 quarter as 2 x 2 WMMA fragments of 16 x 16 x 16
//         (bf16 products, f32 accumulation on the tensor cores); the tile goes through shared
//         memory to be stored with bounds and accumulation.
// Both round once to T on the store.
#include <cuda_runtime.h>
#include <mma.h>

#include "cuda/device_math.cuh"
#include "cuda/grouped_gemm.h"
#include "cuda/grouped_gemm_tiles.h"
#include "cuda/launch_util.cuh"

namespace mone::cuda {
namespace {

constexpr int kTile = static_cast<int>(kGroupedTile);
constexpr int kStep = kGroupedStep;

// Calls put(i, kk, op(i, k0 + kk)) over the 64 x 16 slice, each of `threads` threads a fixed share.
template <int threads, typename D, typename Put>
__device__ void stage(const Operand<D>& op, int64_t k0, Put put) {
  for (int p = 0; p < kTile * kStep / threads; ++p) {
    int i, kk;
    stage_index(threadIdx.x + p * threads, op.k_fastest, &i, &kk);
    put(i, kk, op.at(i, k0 + kk));
  }
}

// ---- f32: SIMT ---------------------------------------------------------------------------------

struct Simt {
  static constexpr int kThreads = 256;
  template <typename D>
  __device__ static void run(const TileJob<D>& job) {
    __shared__ float sa[kStep][kTile];
    __shared__ float sb[kStep][kTile];
    const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
    float acc[4][4] = {};
    for (int64_t k0 = job.k_begin; k0 < job.k_end; k0 += kStep) {
      stage<kThreads>(job.lhs, k0, [&](int i, int kk, float v) { sa[kk][i] = v; });
      stage<kThreads>(job.rhs, k0, [&](int j, int kk, float v) { sb[kk][j] = v; });
      __syncthreads();
      MONE_UNROLL
      for (int kk = 0; kk < kStep; ++kk) {
        float av[4], bv[4];
        MONE_UNROLL
        for (int r = 0; r < 4; ++r) av[r] = sa[kk][ty * 4 + r];
        MONE_UNROLL
        for (int q = 0; q < 4; ++q) bv[q] = sb[kk][tx * 4 + q];
        MONE_UNROLL
        for (int r = 0; r < 4; ++r) {
          MONE_UNROLL
          for (int q = 0; q < 4; ++q) acc[r][q] = fmaf(av[r], bv[q], acc[r][q]);
        }
      }
      __syncthreads();
    }
    for (int r = 0; r < 4; ++r) {
      for (int q = 0; q < 4; ++q) job.out.put(job.c, ty * 4 + r, tx * 4 + q, acc[r][q]);
    }
  }
};

// ---- bf16: WMMA on the tensor cores --------------------------------------------------------------

struct Wmma {
  static constexpr int kThreads = 128;
  // Row pitches (elements) keep every fragment 32-byte aligned and are multiples of 8 (bf16) and
  // 4 (f32), as WMMA requires.
  static constexpr int kPitchA = kStep + 8, kPitchB = kTile + 8, kPitchC = kTile + 4;
  template <typename D>
  __device__ static void run(const TileJob<D>& job) {
    using namespace nvcuda;
    __shared__ __align__(32) __nv_bfloat16 sa[kTile][kPitchA];  // [i][kk]: matrix_a, row-major
    __shared__ __align__(32) __nv_bfloat16 sb[kStep][kPitchB];  // [kk][j]: matrix_b, row-major
    __shared__ __align__(32) float sc[kTile][kPitchC];
    const int warp = threadIdx.x / 32, wr = warp / 2, wc = warp % 2;  // the warp's 32 x 32 quarter
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
    for (int fi = 0; fi < 2; ++fi) {
      for (int fj = 0; fj < 2; ++fj) wmma::fill_fragment(acc[fi][fj], 0.0f);
    }
    for (int64_t k0 = job.k_begin; k0 < job.k_end; k0 += kStep) {
      stage<kThreads>(job.lhs, k0, [&](int i, int kk, float v) { sa[i][kk] = __float2bfloat16_rn(v); });
      stage<kThreads>(job.rhs, k0, [&](int j, int kk, float v) { sb[kk][j] = __float2bfloat16_rn(v); });
      __syncthreads();
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> fb[2];
      for (int f = 0; f < 2; ++f) {
        wmma::load_matrix_sync(fa[f], &sa[wr * 32 + f * 16][0], kPitchA);
        wmma::load_matrix_sync(fb[f], &sb[0][wc * 32 + f * 16], kPitchB);
      }
      for (int fi = 0; fi < 2; ++fi) {
        for (int fj = 0; fj < 2; ++fj) wmma::mma_sync(acc[fi][fj], fa[fi], fb[fj], acc[fi][fj]);
      }
      __syncthreads();
    }
    for (int fi = 0; fi < 2; ++fi) {
      for (int fj = 0; fj < 2; ++fj) {
        wmma::store_matrix_sync(&sc[wr * 32 + fi * 16][wc * 32 + fj * 16], acc[fi][fj], kPitchC, wmma::mem_row_major);
      }
    }
    __syncthreads();
    for (int e = threadIdx.x; e < kTile * kTile; e += kThreads) {
      job.out.put(job.c, e / kTile, e % kTile, sc[e / kTile][e % kTile]);
    }
  }
};

template <typename D>
struct EngineOf {
  using type = Simt;
};
template <>
struct EngineOf<__nv_bfloat16> {
  using type = Wmma;
};

// kRowsTimesWt and kRowsTimesW: blockIdx.x a row tile, blockIdx.y a column tile.
template <typename D, typename Engine>
__global__ void __launch_bounds__(Engine::kThreads) rows_kernel(GroupedGemm g, const D* a, const D* b, float beta, D* c) {
  TileJob<D> job;
  if (!rows_job(g, a, b, beta, c, blockIdx.x, blockIdx.y, &job)) return;  // past the last row tile
  Engine::run(job);
}

// kWeightGrad: blockIdx.x an N tile, blockIdx.y an M tile, blockIdx.z the expert.
template <typename D, typename Engine>
__global__ void __launch_bounds__(Engine::kThreads)
    weight_grad_kernel(GroupedGemm g, const D* a, const D* b, float beta, D* c) {
  Engine::run(weight_grad_job(g, a, b, beta, c, blockIdx.z, blockIdx.y, blockIdx.x));
}

}  // namespace

template <typename T>
cudaError_t grouped_gemm(const GroupedGemm& g, const T* a, const T* b, float beta, T* c, cudaStream_t stream) {
  using D = device_t<T>;
  using Engine = typename EngineOf<D>::type;
  if (g.experts < 1 || g.rows < 0 || g.n < 0 || g.k < 0 || g.m < 0) return cudaErrorInvalidValue;
  if (g.offsets == nullptr && g.experts != 1) return cudaErrorInvalidValue;
  const int64_t col_tiles = ceil_div(g.n, kGroupedTile);
  if (g.layout == GroupedLayout::kWeightGrad) {
    const int64_t row_tiles = ceil_div(g.m, kGroupedTile);
    if (col_tiles == 0 || row_tiles == 0) return cudaSuccess;
    if (col_tiles > kMaxGridX || row_tiles > 65535 || g.experts > 65535) return cudaErrorInvalidValue;
    const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(row_tiles),
                    static_cast<unsigned>(g.experts));
    weight_grad_kernel<D, Engine><<<grid, Engine::kThreads, 0, stream>>>(g, dev(a), dev(b), beta, dev(c));
    return cudaGetLastError();
  }
  if (col_tiles == 0 || g.rows == 0) return cudaSuccess;
  const int64_t row_tiles = row_tile_bound(g.rows, g.experts);
  if (row_tiles > kMaxGridX || col_tiles > 65535) return cudaErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(col_tiles));
  rows_kernel<D, Engine><<<grid, Engine::kThreads, 0, stream>>>(g, dev(a), dev(b), beta, dev(c));
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_GROUPED_GEMM_LAUNCHERS)

}  // namespace mone::cuda

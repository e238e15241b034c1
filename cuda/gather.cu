// Gather and deterministic scatter-add kernels for cuda/gather.h.
// Shape letters: r the shared rank, N index elements.
#include <cuda_runtime.h>

#include "cuda/bf16.cuh"
#include "cuda/gather.h"
#include "cuda/launch_util.cuh"
#include "cuda/sort.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

template <typename T, typename I>
__global__ void gather_kernel(T* out, const T* x, const I* index, int64_t n, const GatherGeometry g) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < n;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[p] = x[gather_data_offset(g, p, static_cast<int64_t>(index[p]))];
  }
}

template <typename T>
__global__ void fill_zero_kernel(T* out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    store_f32(out + i, 0.f);
  }
}

// The pairs to sort: (the data offset index position p adds to, p).
template <typename I>
__global__ void scatter_keys_kernel(const I* index, int64_t n, const GatherGeometry g, uint64_t* offsets,
                                    uint32_t* positions) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < n;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    offsets[p] = static_cast<uint64_t>(gather_data_offset(g, p, static_cast<int64_t>(index[p])));
    positions[p] = static_cast<uint32_t>(p);
  }
}

// One thread per run of equal offsets sums its sources in position order.
template <typename T>
__global__ void scatter_sum_kernel(T* out, const T* src, const uint64_t* offsets, const uint32_t* positions,
                                   int64_t n) {
  for (int64_t s = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; s < n;
       s += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float sum;
    if (scatter_run_sum(offsets, positions, n, s, [&](uint32_t p) { return load_f32(src + p); }, &sum)) {
      store_f32(out + offsets[s], sum);
    }
  }
}

bool valid_geometry(const GatherGeometry& g) {
  return g.rank >= 1 && g.rank <= kGatherMaxRank && g.dim >= 0 && g.dim < g.rank;
}

}  // namespace

// ---- launchers ----

template <typename T, typename I>
cudaError_t gather_forward(T* out, const T* x, const I* index, int64_t n_index, const GatherGeometry& g,
                           cudaStream_t stream) {
  if (!valid_geometry(g) || n_index < 0) return cudaErrorInvalidValue;
  if (n_index == 0) return cudaSuccess;
  gather_kernel<<<grid_stride_blocks(n_index), kBlock, 0, stream>>>(out, x, index, n_index, g);
  return cudaGetLastError();
}

cudaError_t scatter_add_workspace(int64_t n_index, size_t* bytes) { return sort_pairs_workspace(n_index, bytes); }

template <typename T, typename I>
cudaError_t scatter_add_forward(T* out, int64_t n_out, const T* src, const I* index, int64_t n_index,
                                const GatherGeometry& g, void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  if (!valid_geometry(g) || n_out < 0 || n_index < 0 || n_index > INT32_MAX) return cudaErrorInvalidValue;
  if (n_out == 0) return cudaSuccess;
  fill_zero_kernel<<<grid_stride_blocks(n_out), kBlock, 0, stream>>>(out, n_out);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess || n_index == 0) return e;
  const SortBuffers b = sort_buffers(workspace, workspace_bytes, n_index);
  scatter_keys_kernel<<<grid_stride_blocks(n_index), kBlock, 0, stream>>>(index, n_index, g, b.keys_in, b.values_in);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  const int key_bits = n_out > 1 ? bit_width(static_cast<uint64_t>(n_out - 1)) : 1;
  e = sort_pairs(b, n_index, key_bits, stream);
  if (e != cudaSuccess) return e;
  scatter_sum_kernel<<<grid_stride_blocks(n_index), kBlock, 0, stream>>>(out, src, b.keys_out, b.values_out, n_index);
  return cudaGetLastError();
}

MONE_GATHER_INSTANTIATE_ALL

}  // namespace mone::cuda

// Top-k kernels for cuda/topk.h: order keys, one stable sort of all rows at once, then the first
// k of each row's sorted run. Shape letters: R rows, n searched dim, k kept.
#include <cuda_runtime.h>

#include "cuda/bf16.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/sort.h"
#include "cuda/topk.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

// keys[p] = row r in the high half, the complement of x's order key in the low; values[p] = j.
template <typename T>
__global__ void topk_keys_kernel(const T* x, int64_t total, int64_t n, uint64_t* keys, uint32_t* positions) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < total;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    keys[p] = topk_sort_key(static_cast<uint64_t>(p / n), load_f32(x + p));
    positions[p] = static_cast<uint32_t>(p % n);
  }
}

// Row r's pairs sort into [r·n, r·n + n) (the row is the key's high half); keep the first k.
template <typename T>
__global__ void topk_take_kernel(const T* x, int64_t rows, int64_t n, int64_t k, const uint32_t* sorted, T* values,
                                 int64_t* indices) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < rows * k;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = p / k, j = sorted[r * n + p % k];
    indices[p] = j;
    values[p] = x[r * n + j];
  }
}

}  // namespace

// ---- launchers ----

cudaError_t topk_workspace(int64_t rows, int64_t n, size_t* bytes) { return sort_pairs_workspace(rows * n, bytes); }

template <typename T>
cudaError_t topk_forward(T* values, int64_t* indices, const T* x, int64_t rows, int64_t n, int64_t k, void* workspace,
                         size_t workspace_bytes, cudaStream_t stream) {
  if (rows < 0 || n < 0 || k < 0 || k > n || rows > UINT32_MAX || rows * n > INT32_MAX) return cudaErrorInvalidValue;
  const int64_t total = rows * n;
  if (total == 0 || k == 0) return cudaSuccess;
  const SortBuffers b = sort_buffers(workspace, workspace_bytes, total);
  topk_keys_kernel<<<grid_stride_blocks(total), kBlock, 0, stream>>>(x, total, n, b.keys_in, b.values_in);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  e = sort_pairs(b, total, 32 + bit_width(static_cast<uint64_t>(rows - 1)), stream);
  if (e != cudaSuccess) return e;
  topk_take_kernel<<<grid_stride_blocks(rows * k), kBlock, 0, stream>>>(x, rows, n, k, b.values_out, values, indices);
  return cudaGetLastError();
}

template cudaError_t topk_forward<float>(float*, int64_t*, const float*, int64_t, int64_t, int64_t, void*, size_t,
                                         cudaStream_t);
template cudaError_t topk_forward<bf16>(bf16*, int64_t*, const bf16*, int64_t, int64_t, int64_t, void*, size_t,
                                        cudaStream_t);

}  // namespace mone::cuda

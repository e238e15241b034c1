// Dispatch kernels for cuda/moe_dispatch.h: kernels, then launchers.
// Shape letters: N tokens, d model width, K experts per token, E experts, R = N·K pairs,
//   C chunks of kDispatchChunk pairs.
#include "cuda/bf16.cuh"
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/moe_dispatch.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

// Steps 1 and 4 of the counting sort: one thread per chunk.
__global__ void dispatch_histogram_kernel(const int64_t* expert_ids, int64_t pairs, int64_t e, int64_t chunks,
                                          int64_t* hist) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < chunks;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dispatch_histogram(expert_ids, pairs, e, c, hist);
  }
}

__global__ void dispatch_place_kernel(const int64_t* expert_ids, int64_t pairs, int64_t e, int64_t chunks,
                                      const int64_t* offsets, int64_t* hist, int64_t* order, int64_t* slot_row) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < chunks;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dispatch_place(expert_ids, pairs, e, c, offsets, hist, order, slot_row);
  }
}

// Step 2: one thread per expert.
__global__ void dispatch_scan_kernel(int64_t* hist, int64_t chunks, int64_t e, int64_t* counts) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < e;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dispatch_scan(hist, chunks, e, j, counts);
  }
}

// Step 3: one thread.
__global__ void dispatch_offsets_kernel(const int64_t* counts, int64_t e, int64_t* offsets) {
  dispatch_offsets(counts, e, offsets);
}

template <typename T>
__global__ void permute_kernel(const T* x, const int64_t* order, int64_t total, int64_t k, int64_t d, T* x_perm) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / d;
    x_perm[i] = x[(order[r] / k) * d + i % d];
  }
}

// out[t, i] = Σ_s w_s · rows[slot_row[t·K + s], i]: the CPU's `o += w * y` in f32, each product
// and each sum rounded (no fused multiply-add), the slots in order.
template <typename T>
__global__ void combine_kernel(const T* rows, const T* weights, const int64_t* slot_row, int64_t total, int64_t k,
                               int64_t d, T* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = i / d, c = i % d;
    float acc = 0.f;
    for (int64_t s = 0; s < k; ++s) {
      const float w = weights == nullptr ? 1.f : load_f32(weights + t * k + s);
      acc = __fadd_rn(acc, __fmul_rn(w, load_f32(rows + slot_row[t * k + s] * d + c)));
    }
    store_f32(out + i, acc);
  }
}

// Block p = t·K + s: row slot_row[p] of grad_y_perm, and grad_weights[p].
template <typename T>
__global__ void combine_backward_kernel(const T* grad_out, const T* y_perm, const T* weights, const int64_t* slot_row,
                                        int64_t k, int64_t d, T* grad_y_perm, T* grad_weights) {
  __shared__ double scratch[32];
  const int64_t p = blockIdx.x, t = p / k, r = slot_row[p];
  const float w = load_f32(weights + p);
  double dot = 0.0;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
    const float go = load_f32(grad_out + t * d + c);
    store_f32(grad_y_perm + r * d + c, __fmul_rn(w, go));
    dot += static_cast<double>(load_f32(y_perm + r * d + c)) * go;
  }
  dot = block_sum(dot, scratch);
  if (threadIdx.x == 0) store_f32(grad_weights + p, static_cast<float>(dot));
}

}  // namespace

// ---- launchers ----

cudaError_t build_dispatch(const int64_t* expert_ids, int64_t pairs, int64_t e, int64_t* scratch, int64_t* counts,
                           int64_t* offsets, int64_t* order, int64_t* slot_row, cudaStream_t stream) {
  if (pairs < 0 || e < 1) return cudaErrorInvalidValue;
  const int64_t chunks = dispatch_chunks(pairs);
  if (chunks > 0) {
    dispatch_histogram_kernel<<<grid_stride_blocks(chunks), kBlock, 0, stream>>>(expert_ids, pairs, e, chunks,
                                                                                 scratch);
  }
  dispatch_scan_kernel<<<grid_stride_blocks(e), kBlock, 0, stream>>>(scratch, chunks, e, counts);
  dispatch_offsets_kernel<<<1, 1, 0, stream>>>(counts, e, offsets);
  if (chunks > 0) {
    dispatch_place_kernel<<<grid_stride_blocks(chunks), kBlock, 0, stream>>>(expert_ids, pairs, e, chunks, offsets,
                                                                             scratch, order, slot_row);
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t permute_forward(const T* x, const int64_t* order, int64_t rows, int64_t k, int64_t d, T* x_perm,
                            cudaStream_t stream) {
  const int64_t total = rows * d;
  if (rows < 0 || k < 1 || d < 0) return cudaErrorInvalidValue;
  if (total == 0) return cudaSuccess;
  permute_kernel<<<grid_stride_blocks(total), kBlock, 0, stream>>>(dev(x), order, total, k, d, dev(x_perm));
  return cudaGetLastError();
}

template <typename T>
cudaError_t combine_forward(const T* rows, const T* weights, const int64_t* slot_row, int64_t n, int64_t k, int64_t d,
                            T* out, cudaStream_t stream) {
  const int64_t total = n * d;
  if (n < 0 || k < 1 || d < 0) return cudaErrorInvalidValue;
  if (total == 0) return cudaSuccess;
  combine_kernel<<<grid_stride_blocks(total), kBlock, 0, stream>>>(rows, weights, slot_row, total, k, d, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t combine_backward(const T* grad_out, const T* y_perm, const T* weights, const int64_t* slot_row, int64_t n,
                             int64_t k, int64_t d, T* grad_y_perm, T* grad_weights, cudaStream_t stream) {
  const int64_t pairs = n * k;
  if (n < 0 || k < 1 || d < 0 || pairs > kMaxGridX) return cudaErrorInvalidValue;
  if (pairs == 0) return cudaSuccess;
  combine_backward_kernel<<<static_cast<unsigned>(pairs), kBlock, 0, stream>>>(grad_out, y_perm, weights, slot_row,
                                                                              k, d, grad_y_perm, grad_weights);
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_MOE_DISPATCH_LAUNCHERS)

}  // namespace mone::cuda

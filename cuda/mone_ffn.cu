// MoNE expert kernels for cuda/mone_ffn.h: kernels, then launchers. The row kernels run one block
// per row: threads over the row's D (or d) columns, or one warp per kept neuron for a dot product.
// Shape letters: R rows, d model width, E experts, D expert width, K_N neurons kept.
#include <cuda_runtime.h>

#include "cuda/bf16.cuh"
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/mone_ffn.h"
#include "cuda/neuron_select.h"
#include "cuda/sort.h"

namespace mone::cuda {

namespace {

constexpr int kRowThreads = 128;

// act'(a) from the input a (ops/cpu/math.h's activation_grad).
__device__ __forceinline__ float activation_grad(ops::Activation act, float a) {
  const float s = stable_sigmoid(a);
  return act == ops::Activation::kSilu ? silu_grad(a, s) : s * (1.f - s);
}

// A step of a block body (cuda/neuron_select.h) on the GPU: this thread runs it, then the block
// meets at a barrier.
struct GpuBlock {
  template <class F>
  __device__ __forceinline__ void step(F&& f) {
    f(static_cast<int>(threadIdx.x));
    __syncthreads();
  }
};

// a · b over n elements by the 32 lanes of a warp, each lane's share strided, then the warp's
// fixed tree: the total in lane 0. Every lane must call it.
template <typename T>
__device__ float warp_dot(const T* a, const T* b, int64_t n, int lane) {
  float s = 0.f;
  for (int64_t c = lane; c < n; c += 32) s += load_f32(a + c) * load_f32(b + c);
  return warp_sum(s);
}

// One row of H: zero, then h_k at column sel[k]. Every thread of the block must call it.
template <typename T>
__device__ void scatter_row(const T* h, const int32_t* sel, int64_t D, int64_t k_n, T* row) {
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) store_f32(row + j, 0.f);
  __syncthreads();
  for (int64_t k = threadIdx.x; k < k_n; k += blockDim.x) row[sel[k]] = h[k];
}

// First index s in [0, n) with keys[s] >= key (n when none).
__device__ int64_t lower_bound(const uint64_t* keys, int64_t n, uint64_t key) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (keys[mid] < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// ---- kernels ----

template <typename T>
__global__ void __launch_bounds__(neuron_select::kThreads)
    neuron_topk_kernel(const T* g, int64_t D, int64_t k_n, int32_t* idx) {
  __shared__ neuron_select::Shared sh;
  GpuBlock ex;
  const int64_t r = blockIdx.x;
  const T* row = g + r * D;
  neuron_select::select_row(ex, sh, [&](int64_t j) { return load_f32(row + j); }, D, k_n, idx + r * k_n);
}

// Every neuron kept (K_N = D): idx[r, j] = j.
__global__ void all_neurons_kernel(int64_t total, int64_t D, int32_t* idx) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    idx[i] = static_cast<int32_t>(i % D);
  }
}

template <typename T>
__global__ void select_masked_kernel(T* dense, const T* g, const int32_t* idx, int64_t D, int64_t k_n, T* u, T* h) {
  const int64_t r = blockIdx.x;
  T* row = dense + r * D;
  const int32_t* sel = idx + r * k_n;
  for (int64_t k = threadIdx.x; k < k_n; k += blockDim.x) {
    const int64_t j = sel[k];
    u[r * k_n + k] = row[j];
    store_f32(h + r * k_n + k, load_f32(g + r * D + j) * load_f32(row + j));
  }
  __syncthreads();  // U's row is read: it becomes H
  scatter_row(h + r * k_n, sel, D, k_n, row);
}

template <typename T>
__global__ void scatter_selected_kernel(const T* h, const int32_t* idx, int64_t D, int64_t k_n, T* dense) {
  const int64_t r = blockIdx.x;
  scatter_row(h + r * k_n, idx + r * k_n, D, k_n, dense + r * D);
}

template <typename T>
__global__ void gathered_up_kernel(const T* x, const T* w_up, const T* g, const int32_t* idx, const ExpertRows s,
                                   T* u, T* h) {
  const int64_t r = blockIdx.x, e = expert_of_row(s.offsets, s.experts, r);
  const int lane = threadIdx.x % 32;
  for (int64_t k = threadIdx.x / 32; k < s.k_n; k += blockDim.x / 32) {
    const int64_t p = r * s.k_n + k, j = idx[p];
    const float dot = warp_dot(w_up + (e * s.D + j) * s.d, x + r * s.d, s.d, lane);
    if (lane == 0) {
      store_f32(u + p, dot);
      store_f32(h + p, load_f32(g + r * s.D + j) * load_f32(u + p));  // G times u as stored
    }
  }
}

template <typename T>
__global__ void gathered_sum_kernel(const T* w, const T* coef, const int32_t* idx, const ExpertRows s, T* out) {
  const int64_t r = blockIdx.x, e = expert_of_row(s.offsets, s.experts, r);
  const int32_t* sel = idx + r * s.k_n;
  const T* cf = coef + r * s.k_n;
  for (int64_t c = threadIdx.x; c < s.d; c += blockDim.x) {
    float acc = 0.f;
    for (int64_t k = 0; k < s.k_n; ++k) acc += load_f32(cf + k) * load_f32(w + (e * s.D + sel[k]) * s.d + c);
    store_f32(out + r * s.d + c, acc);
  }
}

// out[e, c, r] = in[e, r, c]; one thread per output element.
template <typename T>
__global__ void transpose_experts_kernel(const T* in, int64_t total, int64_t rows, int64_t cols, T* out) {
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < total;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = o % rows, c = (o / rows) % cols, e = o / (rows * cols);
    out[o] = in[(e * rows + r) * cols + c];
  }
}

template <typename T>
__global__ void hard_backward_kernel(const T* dH, const T* extra, const T* a, const T* g, const int32_t* idx,
                                     const T* u, int64_t D, int64_t k_n, ops::Activation act, T* da, T* dU) {
  const int64_t r = blockIdx.x;
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const int64_t i = r * D + j;
    const float dg = extra == nullptr ? 0.f : load_f32(extra + i);
    store_f32(da + i, dg * activation_grad(act, load_f32(a + i)));
    if (dU != nullptr) store_f32(dU + i, 0.f);
  }
  if (dH == nullptr) return;
  __syncthreads();  // the dense row is written: the selected entries go over it
  for (int64_t k = threadIdx.x; k < k_n; k += blockDim.x) {
    const int64_t i = r * D + idx[r * k_n + k];
    const float dh = load_f32(dH + i), dg = extra == nullptr ? 0.f : load_f32(extra + i);
    store_f32(da + i, (dg + dh * load_f32(u + r * k_n + k)) * activation_grad(act, load_f32(a + i)));
    store_f32(dU + i, dh * load_f32(g + i));
  }
}

template <typename T>
__global__ void straight_through_kernel(const T* extra, const T* a, const T* g, int64_t n, ops::Activation act,
                                        T* dH_to_da, T* U_to_dU) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float dh = load_f32(dH_to_da + i), big_u = load_f32(U_to_dU + i);
    const float dg = (extra == nullptr ? 0.f : load_f32(extra + i)) + dh * big_u;
    store_f32(dH_to_da + i, dg * activation_grad(act, load_f32(a + i)));
    store_f32(U_to_dU + i, dh * load_f32(g + i));
  }
}

template <typename T>
__global__ void gathered_dh_kernel(const T* w_down_t, const T* dy, const T* extra, const T* a, const T* g,
                                   const int32_t* idx, const T* u, const ExpertRows s, ops::Activation act, T* da,
                                   T* du) {
  const int64_t r = blockIdx.x, e = expert_of_row(s.offsets, s.experts, r);
  const int lane = threadIdx.x % 32;
  for (int64_t k = threadIdx.x / 32; k < s.k_n; k += blockDim.x / 32) {
    const int64_t p = r * s.k_n + k, j = idx[p], i = r * s.D + j;
    const float dh = warp_dot(w_down_t + (e * s.D + j) * s.d, dy + r * s.d, s.d, lane);
    if (lane == 0) {
      const float dg = (extra == nullptr ? 0.f : load_f32(extra + i)) + dh * load_f32(u + p);
      store_f32(da + i, dg * activation_grad(act, load_f32(a + i)));
      store_f32(du + p, dh * load_f32(g + i));
    }
  }
}

// The sort pairs of the selections: key expert·D + neuron, value the selection's index p = r·K_N + k.
__global__ void selection_keys_kernel(const int32_t* idx, const ExpertRows s, int64_t n, uint64_t* keys,
                                      uint32_t* values) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < n;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t e = expert_of_row(s.offsets, s.experts, p / s.k_n);
    keys[p] = static_cast<uint64_t>(e * s.D + idx[p]);
    values[p] = static_cast<uint32_t>(p);
  }
}

// Block b = e·D + j: row j of expert e's dW_downᵀ and dW_up, summed over the rows that kept j
// (the run of key b in the sorted selections, in token order).
template <typename T>
__global__ void gathered_weight_grads_kernel(const T* dy, const T* x, const T* h, const T* du, const ExpertRows s,
                                             const uint64_t* keys, const uint32_t* values, int64_t n,
                                             T* grad_w_down_t, T* grad_w_up) {
  const uint64_t b = blockIdx.x;
  const int64_t lo = lower_bound(keys, n, b), hi = lower_bound(keys, n, b + 1);
  for (int64_t c = threadIdx.x; c < s.d; c += blockDim.x) {
    float down = 0.f, up = 0.f;
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t p = values[q], r = p / s.k_n;
      down += load_f32(h + p) * load_f32(dy + r * s.d + c);
      up += load_f32(du + p) * load_f32(x + r * s.d + c);
    }
    store_f32(grad_w_down_t + b * s.d + c, down);
    store_f32(grad_w_up + b * s.d + c, up);
  }
}

bool valid_rows(int64_t rows, int64_t D, int64_t k_n) {
  return rows >= 0 && rows <= kMaxGridX && D >= 1 && k_n >= 1 && k_n <= D;
}
bool valid_rows(const ExpertRows& s) {
  return valid_rows(s.rows, s.D, s.k_n) && s.d >= 0 && s.experts >= 1 && (s.offsets != nullptr || s.experts == 1);
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t neuron_topk(const T* g, int64_t rows, int64_t D, int64_t k_n, int32_t* idx, cudaStream_t stream) {
  if (!valid_rows(rows, D, k_n) || D > INT32_MAX) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  if (k_n == D) {
    all_neurons_kernel<<<grid_stride_blocks(rows * D), kBlock, 0, stream>>>(rows * D, D, idx);
  } else {
    neuron_topk_kernel<<<static_cast<unsigned>(rows), neuron_select::kThreads, 0, stream>>>(g, D, k_n, idx);
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t select_masked(T* dense, const T* g, const int32_t* idx, int64_t rows, int64_t D, int64_t k_n, T* u, T* h,
                          cudaStream_t stream) {
  if (!valid_rows(rows, D, k_n)) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  select_masked_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(dense, g, idx, D, k_n, u, h);
  return cudaGetLastError();
}

template <typename T>
cudaError_t scatter_selected(const T* h, const int32_t* idx, int64_t rows, int64_t D, int64_t k_n, T* dense,
                             cudaStream_t stream) {
  if (!valid_rows(rows, D, k_n)) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  scatter_selected_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(h, idx, D, k_n, dense);
  return cudaGetLastError();
}

template <typename T>
cudaError_t gathered_up(const T* x, const T* w_up, const T* g, const int32_t* idx, const ExpertRows& s, T* u, T* h,
                        cudaStream_t stream) {
  if (!valid_rows(s)) return cudaErrorInvalidValue;
  if (s.rows == 0) return cudaSuccess;
  gathered_up_kernel<<<static_cast<unsigned>(s.rows), kRowThreads, 0, stream>>>(x, w_up, g, idx, s, u, h);
  return cudaGetLastError();
}

template <typename T>
cudaError_t gathered_sum(const T* w, const T* coef, const int32_t* idx, const ExpertRows& s, T* out,
                         cudaStream_t stream) {
  if (!valid_rows(s)) return cudaErrorInvalidValue;
  if (s.rows == 0 || s.d == 0) return cudaSuccess;
  gathered_sum_kernel<<<static_cast<unsigned>(s.rows), kRowThreads, 0, stream>>>(w, coef, idx, s, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t transpose_experts(const T* in, int64_t experts, int64_t rows, int64_t cols, T* out, cudaStream_t stream) {
  if (experts < 0 || rows < 0 || cols < 0) return cudaErrorInvalidValue;
  const int64_t total = experts * rows * cols;
  if (total == 0) return cudaSuccess;
  transpose_experts_kernel<<<grid_stride_blocks(total), kBlock, 0, stream>>>(dev(in), total, rows, cols, dev(out));
  return cudaGetLastError();
}

template <typename T>
cudaError_t hard_backward(const T* dH, const T* grad_g_extra, const T* a, const T* g, const int32_t* idx, const T* u,
                          int64_t rows, int64_t D, int64_t k_n, ops::Activation act, T* da, T* dU,
                          cudaStream_t stream) {
  if (!valid_rows(rows, D, k_n) || (dH != nullptr && dU == nullptr)) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  hard_backward_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(dH, grad_g_extra, a, g, idx, u, D,
                                                                               k_n, act, da, dU);
  return cudaGetLastError();
}

template <typename T>
cudaError_t straight_through_backward(const T* grad_g_extra, const T* a, const T* g, int64_t n, ops::Activation act,
                                      T* dH_to_da, T* U_to_dU, cudaStream_t stream) {
  if (n < 0) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  straight_through_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(grad_g_extra, a, g, n, act, dH_to_da,
                                                                        U_to_dU);
  return cudaGetLastError();
}

template <typename T>
cudaError_t gathered_dh(const T* w_down_t, const T* dy, const T* grad_g_extra, const T* a, const T* g,
                        const int32_t* idx, const T* u, const ExpertRows& s, ops::Activation act, T* da, T* du,
                        cudaStream_t stream) {
  if (!valid_rows(s)) return cudaErrorInvalidValue;
  if (s.rows == 0) return cudaSuccess;
  gathered_dh_kernel<<<static_cast<unsigned>(s.rows), kRowThreads, 0, stream>>>(w_down_t, dy, grad_g_extra, a, g,
                                                                               idx, u, s, act, da, du);
  return cudaGetLastError();
}

cudaError_t gathered_weight_grads_workspace(int64_t selections, size_t* bytes) {
  return sort_pairs_workspace(selections, bytes);
}

template <typename T>
cudaError_t gathered_weight_grads(const T* dy, const T* x, const T* h, const T* du, const int32_t* idx,
                                  const ExpertRows& s, void* workspace, size_t workspace_bytes, T* grad_w_down_t,
                                  T* grad_w_up, cudaStream_t stream) {
  const int64_t n = s.rows * s.k_n, blocks = s.experts * s.D;
  if (!valid_rows(s) || n > INT32_MAX || blocks > kMaxGridX) return cudaErrorInvalidValue;
  if (s.d == 0) return cudaSuccess;
  const SortBuffers b = sort_buffers(workspace, workspace_bytes, n);
  if (n > 0) {
    selection_keys_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(idx, s, n, b.keys_in, b.values_in);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    const int key_bits = blocks > 1 ? bit_width(static_cast<uint64_t>(blocks - 1)) : 1;
    if ((e = sort_pairs(b, n, key_bits, stream)) != cudaSuccess) return e;
  }
  gathered_weight_grads_kernel<<<static_cast<unsigned>(blocks), kRowThreads, 0, stream>>>(
      dy, x, h, du, s, b.keys_out, b.values_out, n, grad_w_down_t, grad_w_up);
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_MONE_FFN_LAUNCHERS)

}  // namespace mone::cuda

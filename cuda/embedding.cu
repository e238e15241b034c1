// Embedding kernels for cuda/embedding.h: kernels, then launchers.
// Shape letters: V vocab, d width, n ids (tokens), n2 = n rounded up to a power of two.
#include "cuda/device_math.cuh"
#include "cuda/embedding.h"
#include "cuda/launch_util.cuh"

namespace mone::cuda {

namespace {

// ---- kernels ----

// One block per id p: out[p, :] = weight[ids[p], :].
template <typename D>
__global__ void embedding_forward_kernel(const D* weight, const int64_t* ids, int64_t d, D* out) {
  const D* src = weight + ids[blockIdx.x] * d;
  D* dst = out + blockIdx.x * d;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) dst[c] = src[c];
}

// keys[p] = ids[p] · 2^32 + p for p < n, and the largest key (sorts last) for n <= p < n2.
__global__ void make_keys_kernel(const int64_t* ids, int64_t n, int64_t n2, uint64_t* keys) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < n2;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    keys[p] = p < n ? (static_cast<uint64_t>(ids[p]) << 32) | static_cast<uint64_t>(p) : ~uint64_t{0};
  }
}

// One compare-exchange step (k, j) of a bitonic sort of n2 keys into ascending order.
__global__ void bitonic_step_kernel(uint64_t* keys, int64_t n2, int64_t k, int64_t j) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n2;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t l = i ^ j;
    if (l <= i) continue;
    const uint64_t a = keys[i], b = keys[l];
    const bool ascending = (i & k) == 0;
    if ((a > b) == ascending) {
      keys[i] = b;
      keys[l] = a;
    }
  }
}

// One block per sorted key i that starts a run of equal ids: grad_weight[id, :] = the sum of the
// run's grad_out rows, in position order (the keys of one id are sorted by position).
template <typename D>
__global__ void segment_sum_kernel(const D* grad_out, const uint64_t* keys, int64_t n, int64_t d, D* grad_weight) {
  const int64_t i = blockIdx.x;
  const uint64_t id = keys[i] >> 32;
  if (i > 0 && (keys[i - 1] >> 32) == id) return;  // not the start of a run
  int64_t end = i + 1;
  while (end < n && (keys[end] >> 32) == id) ++end;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
    float acc = 0.f;  // the CPU's order and precision: 0 + g_p0 + g_p1 + ...
    for (int64_t j = i; j < end; ++j) acc += to_float(grad_out[static_cast<int64_t>(keys[j] & 0xffffffffu) * d + c]);
    grad_weight[id * d + c] = from_float<D>(acc);
  }
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t embedding_forward(const T* weight, const int64_t* ids, int64_t n, int64_t d, T* out, cudaStream_t stream) {
  if (n == 0 || d == 0) return cudaSuccess;
  if (n > kMaxGridX) return cudaErrorInvalidValue;
  embedding_forward_kernel<<<static_cast<unsigned>(n), kBlock, 0, stream>>>(dev(weight), ids, d, dev(out));
  return cudaGetLastError();
}

int64_t embedding_backward_keys(int64_t n) {
  int64_t n2 = 1;
  while (n2 < n) n2 *= 2;
  return n2;
}

template <typename T>
cudaError_t embedding_backward(const T* grad_out, const int64_t* ids, int64_t n, int64_t V, int64_t d,
                               uint64_t* keys, T* grad_weight, cudaStream_t stream) {
  if (V * d == 0) return cudaSuccess;
  if (n >= (int64_t{1} << 32) || V >= (int64_t{1} << 31)) return cudaErrorInvalidValue;
  cudaError_t e = cudaMemsetAsync(grad_weight, 0, static_cast<size_t>(V * d) * sizeof(T), stream);
  if (e != cudaSuccess || n == 0) return e;
  const int64_t n2 = embedding_backward_keys(n);
  make_keys_kernel<<<grid_stride_blocks(n2), kBlock, 0, stream>>>(ids, n, n2, keys);
  for (int64_t k = 2; k <= n2; k *= 2) {
    for (int64_t j = k / 2; j > 0; j /= 2) {
      bitonic_step_kernel<<<grid_stride_blocks(n2), kBlock, 0, stream>>>(keys, n2, k, j);
    }
  }
  segment_sum_kernel<<<static_cast<unsigned>(n), kBlock, 0, stream>>>(dev(grad_out), keys, n, d, dev(grad_weight));
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_EMBEDDING_LAUNCHERS)

}  // namespace mone::cuda

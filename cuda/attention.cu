// Attention kernels for cuda/attention.h (f32 and bf16 elements, f32 arithmetic). The thread-block
// bodies live in cuda/attention_tiles.h, shared with a CPU emulation; this file adds the GPU side
// of a step (one thread's registers, then __syncthreads), bf16 loads, the kernels and the launchers.
// Shape letters: B batch, Tq query rows, Tk key rows, H query heads, Hkv kv heads, hd head dim.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "cuda/attention.h"
#include "cuda/attention_tiles.h"
#include "cuda/bf16.cuh"
#include "cuda/launch_util.cuh"

namespace mone::cuda {
namespace attention_tiles {

// bf16 is the top half of an f32: widen with a shift; narrow rounding to nearest even.
template <>
struct Elem<bf16> {
  __device__ static float load(const bf16* p) { return load_f32(p); }
  __device__ static Vec4 load4(const bf16* p) {  // p is 8-byte aligned
    const uint2 u = *reinterpret_cast<const uint2*>(p);
    return {{__uint_as_float(u.x << 16), __uint_as_float(u.x & 0xffff0000u), __uint_as_float(u.y << 16),
             __uint_as_float(u.y & 0xffff0000u)}};
  }
  __device__ static void store(bf16* p, float x) { store_f32(p, x); }
};

}  // namespace attention_tiles

namespace {

using namespace attention_tiles;

// ---- kernels ----

// A step on the GPU: this thread runs it on its own state, then the block meets at a barrier.
template <class State>
struct GpuBlock {
  State st;
  template <class F>
  __device__ __forceinline__ void step(F&& f) {
    f(static_cast<int>(threadIdx.x), st);
    __syncthreads();
  }
};

template <int HD, typename T>
__global__ void __launch_bounds__(kThreads) forward_kernel(const ForwardArgs<T> a) {
  extern __shared__ float4 smem[];
  GpuBlock<ForwardState<HD>> ex;
  forward_block<HD>(ex, reinterpret_cast<float*>(smem), a, blockIdx.x);
}

template <typename T>
__global__ void delta_kernel(const BackwardArgs<T> a, int64_t rows) {
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    delta_row(a, r);
  }
}

template <int HD, typename T>
__global__ void __launch_bounds__(kThreads) grad_q_kernel(const BackwardArgs<T> a) {
  extern __shared__ float4 smem[];
  GpuBlock<GradQState<HD>> ex;
  grad_q_block<HD>(ex, reinterpret_cast<float*>(smem), a, blockIdx.x);
}

template <int HD, typename T>
__global__ void __launch_bounds__(kThreads) grad_kv_kernel(const BackwardArgs<T> a) {
  extern __shared__ float4 smem[];
  GpuBlock<GradKvState<HD>> ex;
  grad_kv_block<HD>(ex, reinterpret_cast<float*>(smem), a, blockIdx.x);
}

// ---- launchers ----

// Launches kernel<<<blocks, kThreads, floats · 4 bytes>>> on stream, raising the kernel's shared-
// memory limit first (above 48 KB it must be asked for).
template <typename Kernel, typename Args>
cudaError_t launch_tiles(Kernel kernel, int64_t blocks, int floats, const Args& a, cudaStream_t stream) {
  if (blocks == 0) return cudaSuccess;
  if (blocks > INT32_MAX) return cudaErrorInvalidConfiguration;
  const int bytes = floats * static_cast<int>(sizeof(float));
  const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e != cudaSuccess) return e;
  kernel<<<static_cast<unsigned>(blocks), kThreads, bytes, stream>>>(a);
  return cudaGetLastError();
}

template <int HD, typename T>
cudaError_t forward_hd(const ForwardArgs<T>& a, cudaStream_t stream) {
  return launch_tiles(forward_kernel<HD, T>, query_blocks<HD>(a.d), Tiles<HD>::kForwardFloats, a, stream);
}

template <int HD, typename T>
cudaError_t backward_hd(const BackwardArgs<T>& a, cudaStream_t stream) {
  cudaError_t e = launch_tiles(grad_q_kernel<HD, T>, query_blocks<HD>(a.d), Tiles<HD>::kGradQFloats, a, stream);
  if (e != cudaSuccess) return e;
  return launch_tiles(grad_kv_kernel<HD, T>, key_blocks<HD>(a.d), Tiles<HD>::kGradKvFloats, a, stream);
}

template <typename T>
cudaError_t forward_any(T* out, float* lse, const T* q, const T* k, const T* v, const AttentionDims& d,
                        cudaStream_t stream) {
  if (!valid_dims(d)) return cudaErrorInvalidValue;
  const ForwardArgs<T> a = forward_args(out, lse, q, k, v, d);
  return with_padded_head_dim(d.hd, [&](auto hd) { return forward_hd<decltype(hd)::value>(a, stream); });
}

template <typename T>
cudaError_t backward_any(T* grad_q, T* grad_k, T* grad_v, float* delta, const T* grad_out, const T* q, const T* k,
                         const T* v, const T* out, const float* lse, const AttentionDims& d, cudaStream_t stream) {
  if (!valid_dims(d)) return cudaErrorInvalidValue;
  const BackwardArgs<T> a = backward_args(grad_q, grad_k, grad_v, delta, grad_out, q, k, v, out, lse, d);
  const int64_t rows = d.b * d.tq * d.h;
  if (rows > 0) {
    delta_kernel<<<grid_stride_blocks(rows), kBlock, 0, stream>>>(a, rows);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }
  return with_padded_head_dim(d.hd, [&](auto hd) { return backward_hd<decltype(hd)::value>(a, stream); });
}

}  // namespace

cudaError_t attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                              const AttentionDims& dims, cudaStream_t stream) {
  return forward_any(out, lse, q, k, v, dims, stream);
}
cudaError_t attention_forward(bf16* out, float* lse, const bf16* q, const bf16* k, const bf16* v,
                              const AttentionDims& dims, cudaStream_t stream) {
  return forward_any(out, lse, q, k, v, dims, stream);
}

cudaError_t attention_backward(float* grad_q, float* grad_k, float* grad_v, float* delta, const float* grad_out,
                               const float* q, const float* k, const float* v, const float* out, const float* lse,
                               const AttentionDims& dims, cudaStream_t stream) {
  return backward_any(grad_q, grad_k, grad_v, delta, grad_out, q, k, v, out, lse, dims, stream);
}
cudaError_t attention_backward(bf16* grad_q, bf16* grad_k, bf16* grad_v, float* delta, const bf16* grad_out,
                               const bf16* q, const bf16* k, const bf16* v, const bf16* out, const float* lse,
                               const AttentionDims& dims, cudaStream_t stream) {
  return backward_any(grad_q, grad_k, grad_v, delta, grad_out, q, k, v, out, lse, dims, stream);
}

}  // namespace mone::cuda

// Device-side helpers shared by the .cu files (nvcc only): the element types, float conversions,
// the sigmoid, and block reductions in a fixed order.
//
// Element types: launchers are declared in plain C++ over float and mone::bf16 (core/dtype.h);
// inside a .cu, mone::bf16 is read as __nv_bfloat16 (the same 16 bits). Kernels compute in f32
// (or f64 accumulators) and round once on the store.
//
// Reductions are deterministic: each thread's share is fixed by the block size, and the warp and
// block trees combine them in one fixed order, so a sum is the same bits on every run (no atomics).
// Shape letters: none.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "core/dtype.h"

namespace mone::cuda {

// ---- element types ----
template <typename T>
struct DeviceElement {
  using type = T;
};
template <>
struct DeviceElement<bf16> {
  using type = __nv_bfloat16;
};
// The type a kernel sees for a launcher's T: float -> float, mone::bf16 -> __nv_bfloat16.
template <typename T>
using device_t = typename DeviceElement<T>::type;

template <typename T>
device_t<T>* dev(T* p) {
  return reinterpret_cast<device_t<T>*>(p);
}
template <typename T>
const device_t<T>* dev(const T* p) {
  return reinterpret_cast<const device_t<T>*>(p);
}

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename D>
__device__ __forceinline__ D from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
// A double accumulator rounded to D through float, as the CPU's bf16(float(v)).
template <typename D>
__device__ __forceinline__ D from_double(double x) {
  return from_float<D>(static_cast<float>(x));
}

// ---- math (the CPU's ops/cpu/activation.h, on the device) ----
// σ(x) without overflow: e^-|x| never exceeds 1.
__device__ __forceinline__ float stable_sigmoid(float x) {
  const float e = expf(-fabsf(x));
  return x >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
}
// silu'(x) = σ(x) (1 + x (1 - σ(x))), given s = σ(x).
__device__ __forceinline__ float silu_grad(float x, float s) { return s * (1.f + x * (1.f - s)); }

// ---- reductions in a fixed order ----
template <typename A>
__device__ __forceinline__ A warp_sum(A v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;  // the warp's total in lane 0
}
template <typename A>
__device__ __forceinline__ A warp_max(A v) {
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;  // in lane 0
}

// The sum of `v` over the block, returned to every thread. blockDim.x must be a multiple of 32;
// `scratch` is 32 shared slots. Contains __syncthreads: every thread of the block must call it.
template <typename A>
__device__ A block_sum(A v, A* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  __syncthreads();  // the scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < static_cast<int>(blockDim.x / 32) ? scratch[lane] : A(0);
  return __shfl_sync(0xffffffffu, warp_sum(v), 0);
}

// The maximum of `v` over the block, returned to every thread (as block_sum; -inf when empty).
__device__ inline float block_max(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < static_cast<int>(blockDim.x / 32) ? scratch[lane] : -INFINITY;
  return __shfl_sync(0xffffffffu, warp_max(v), 0);
}

// log Σ_j exp(row[j]) over one row of n > 0 elements owned by the block, with the row maximum
// subtracted (the CPU's logsumexp_row; exponentials in f32, their sum in double). Every thread
// of the block must call it; all get the result.
template <typename D>
__device__ float block_logsumexp(const D* row, int64_t n) {
  __shared__ float max_scratch[32];
  __shared__ double sum_scratch[32];
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, to_float(row[j]));
  m = block_max(m, max_scratch);
  if (isinf(m)) return m;  // all -inf (lse = -inf) or some +inf (lse = +inf)
  double s = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += expf(to_float(row[j]) - m);
  s = block_sum(s, sum_scratch);
  return m + static_cast<float>(log(s));
}

}  // namespace mone::cuda

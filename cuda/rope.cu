// RoPE kernels for cuda/rope.h: kernels, then launchers.
// Shape letters: B batch, T sequence, H heads, hd head dim; half = hd / 2.
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/rope.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

// table[0, p, i] = cos, table[1, p, i] = sin of (offset + p) · theta^(-2i/hd), in double.
__global__ void rope_table_kernel(float* table, int64_t t, int64_t hd, int64_t position_offset, double theta) {
  const int64_t half = hd / 2, n = t * half;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = k / half, i = k % half;
    // frequency of pair i: theta^(-2i/hd), from 1 (fastest) down towards 1/theta
    const double angle = static_cast<double>(position_offset + p) * pow(theta, -2.0 * i / static_cast<double>(hd));
    double s, c;
    sincos(angle, &s, &c);
    table[k] = static_cast<float>(c);
    table[n + k] = static_cast<float>(s);
  }
}

// One thread per pair (i, i + half) of one head: rotate by the table's angle (negated: inverse).
template <typename D>
__global__ void rope_rotate_kernel(D* y, const D* x, const float* table, int64_t pairs, int64_t t, int64_t h,
                                   int64_t hd, float sign) {
  const int64_t half = hd / 2;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < pairs;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = k % half, row = k / half;  // row = (b · T + p) · H + head
    const int64_t p = (row / h) % t;
    const int64_t base = row * hd;
    const float c = table[p * half + i], sn = sign * table[t * half + p * half + i];
    const float x1 = to_float(x[base + i]), x2 = to_float(x[base + i + half]);
    y[base + i] = from_float<D>(x1 * c - x2 * sn);
    y[base + i + half] = from_float<D>(x2 * c + x1 * sn);
  }
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t rope_rotate(T* y, const T* x, int64_t b, int64_t t, int64_t h, int64_t hd, int64_t position_offset,
                        double theta, bool inverse, float* table, cudaStream_t stream) {
  const int64_t pairs = b * t * h * (hd / 2);
  if (pairs == 0) return cudaSuccess;
  if (hd % 2 != 0) return cudaErrorInvalidValue;
  rope_table_kernel<<<grid_stride_blocks(t * (hd / 2)), kBlock, 0, stream>>>(table, t, hd, position_offset, theta);
  rope_rotate_kernel<<<grid_stride_blocks(pairs), kBlock, 0, stream>>>(dev(y), dev(x), table, pairs, t, h, hd,
                                                                      inverse ? -1.f : 1.f);
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_ROPE_LAUNCHERS)

}  // namespace mone::cuda

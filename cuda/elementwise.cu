// Elementwise kernels for cuda/elementwise.h. Layout after llm.c: kernels, then launchers
// (ceil-div grid, the caller's stream, the launch checked).
// Shape letters: none; n elements, the broadcast operand repeats every m elements.
#include "cuda/device_math.cuh"
#include "cuda/elementwise.h"
#include "cuda/launch_util.cuh"

namespace mone::cuda {

namespace {

// ---- kernels ----

// out[i] = a[i % na] (op) b[i % nb]; one of na, nb is n, so one modulo per element.
template <typename D>
__global__ void binary_kernel(ops::BinaryOp op, const D* a, int64_t na, const D* b, int64_t nb, D* out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float x = to_float(a[na == n ? i : i % na]), y = to_float(b[nb == n ? i : i % nb]);
    out[i] = from_float<D>(op == ops::BinaryOp::kAdd ? x + y : (op == ops::BinaryOp::kSub ? x - y : x * y));
  }
}

template <typename D>
__global__ void scale_kernel(const D* a, int64_t n, float s, D* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = from_float<D>(s * to_float(a[i]));
  }
}

__global__ void add_counts_kernel(int64_t* dst, const int64_t* src, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dst[i] += src[i];
  }
}

template <typename D>
__global__ void clamp_kernel(const D* x, int64_t n, float lo, float hi, D* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = to_float(x[i]);
    out[i] = from_float<D>(v < lo ? lo : (v > hi ? hi : v));
  }
}

template <typename D>
__global__ void clamp_backward_kernel(const D* grad_out, const D* x, int64_t n, float lo, float hi, D* grad_x) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = to_float(x[i]);
    grad_x[i] = (v >= lo && v <= hi) ? grad_out[i] : from_float<D>(0.0f);
  }
}

}  // namespace

// ---- launchers ----

cudaError_t add_counts(int64_t* dst, const int64_t* src, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  add_counts_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(dst, src, n);
  return cudaGetLastError();
}

template <typename T>
cudaError_t binary_forward(ops::BinaryOp op, const T* a, int64_t na, const T* b, int64_t nb, T* out,
                           cudaStream_t stream) {
  const int64_t n = na > nb ? na : nb;
  if (n == 0) return cudaSuccess;
  if (na == 0 || nb == 0 || n % na != 0 || n % nb != 0) return cudaErrorInvalidValue;
  binary_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(op, dev(a), na, dev(b), nb, dev(out), n);
  return cudaGetLastError();
}

template <typename T>
cudaError_t scale(const T* a, int64_t n, float s, T* out, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  scale_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(dev(a), n, s, dev(out));
  return cudaGetLastError();
}

template <typename T>
cudaError_t clamp(const T* x, int64_t n, float lo, float hi, T* out, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  clamp_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(dev(x), n, lo, hi, dev(out));
  return cudaGetLastError();
}

template <typename T>
cudaError_t clamp_backward(const T* grad_out, const T* x, int64_t n, float lo, float hi, T* grad_x,
                           cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  clamp_backward_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(dev(grad_out), dev(x), n, lo, hi,
                                                                       dev(grad_x));
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_ELEMENTWISE_LAUNCHERS)

}  // namespace mone::cuda

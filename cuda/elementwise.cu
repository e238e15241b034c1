// Elementwise kernels (f32) for cuda/elementwise.h. Layout after llm.c: kernels, then launchers
// (ceil-div grid, the caller's stream, the launch checked).
// Shape letters: none; n elements, the broadcast operand repeats every m elements.
#include <cuda_runtime.h>

#include "cuda/elementwise.h"
#include "cuda/launch_util.cuh"

namespace mone::cuda {

namespace {

// ---- kernels ----

// out[i] = a[i % na] (op) b[i % nb].
__global__ void binary_kernel(ops::BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb, float* out,
                              int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float x = a[i % na], y = b[i % nb];
    out[i] = op == ops::BinaryOp::kAdd ? x + y : (op == ops::BinaryOp::kSub ? x - y : x * y);
  }
}

__global__ void scale_kernel(const float* a, int64_t n, float s, float* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = s * a[i];
  }
}

}  // namespace

// ---- launchers ----

cudaError_t binary_forward(ops::BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb, float* out,
                           cudaStream_t stream) {
  const int64_t n = na > nb ? na : nb;
  if (n == 0) return cudaSuccess;
  if (na == 0 || nb == 0 || n % na != 0 || n % nb != 0) return cudaErrorInvalidValue;
  binary_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(op, a, na, b, nb, out, n);
  return cudaGetLastError();
}

cudaError_t scale(const float* a, int64_t n, float s, float* out, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  scale_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(a, n, s, out);
  return cudaGetLastError();
}

}  // namespace mone::cuda

// Elementwise kernels (f32). Shape letters: none; n elements, the broadcast operand repeats every
// m elements. Layout after llm.c: kernels, then launchers (ceil-div grid, default stream, launch
// checked).
#include <cuda_runtime.h>

#include "cuda/elementwise_kernels.h"

namespace mone::cuda::kernels {

namespace {

constexpr int kBlock = 256;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- kernels ----

// out[i] = a[i % na] (op) b[i % nb]; kind 0 add, 1 sub, 2 mul.
__global__ void binary_kernel(int kind, const float* a, int64_t na, const float* b, int64_t nb, float* out,
                              int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float x = a[i % na], y = b[i % nb];
    out[i] = kind == 0 ? x + y : (kind == 1 ? x - y : x * y);
  }
}

__global__ void scale_kernel(const float* a, int64_t n, float s, float* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = s * a[i];
  }
}

const char* check_launch() {
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

// Grid-stride loops: enough blocks to fill the GPU, never more than 65535·4 of them.
int grid_for(int64_t n) {
  const int64_t blocks = ceil_div(n, kBlock);
  return static_cast<int>(blocks < 262140 ? blocks : 262140);
}

}  // namespace

// ---- launchers ----

const char* launch_binary(int kind, const float* a, int64_t na, const float* b, int64_t nb, float* out) {
  const int64_t n = na > nb ? na : nb;
  if (n == 0) return nullptr;
  if (na == 0 || nb == 0 || n % na != 0 || n % nb != 0) return "binary: one operand must repeat to fill the other";
  binary_kernel<<<grid_for(n), kBlock, 0, 0>>>(kind, a, na, b, nb, out, n);
  return check_launch();
}

const char* launch_scale(const float* a, int64_t n, float s, float* out) {
  if (n == 0) return nullptr;
  scale_kernel<<<grid_for(n), kBlock, 0, 0>>>(a, n, s, out);
  return check_launch();
}

}  // namespace mone::cuda::kernels

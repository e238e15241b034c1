// The fused AdamW kernel for cuda/optim.h: kernel, then launcher.
// Shape letters: n the element count.
#include <cuda_runtime.h>

#include "cuda/launch_util.cuh"
#include "cuda/optim.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

// The CPU's arithmetic in f32 (ops/cpu/optim.cpp): g = grad_scale · grad, then
// (lr / bias1) · m / (sqrt(v) / sqrt(bias2) + eps).
__global__ void adamw_kernel(float* param, const float* grad, float* m, float* v, int64_t n, float beta1,
                             float beta2, float eps, float step_size, float inv_sqrt_bias2, float decay,
                             float grad_scale) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = grad_scale * grad[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    // decoupled: the decay never enters m or v
    param[i] = param[i] * decay - step_size * mi / (sqrtf(vi) * inv_sqrt_bias2 + eps);
  }
}

}  // namespace

// ---- launchers ----

cudaError_t adamw_step(float* param, const float* grad, float* m, float* v, int64_t n, double lr, double beta1,
                       double beta2, double eps, double weight_decay, double bias1, double bias2, double grad_scale,
                       cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  adamw_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(
      param, grad, m, v, n, static_cast<float>(beta1), static_cast<float>(beta2), static_cast<float>(eps),
      static_cast<float>(lr / bias1), static_cast<float>(1.0 / sqrt(bias2)), static_cast<float>(1.0 - lr * weight_decay),
      static_cast<float>(grad_scale));
  return cudaGetLastError();
}

}  // namespace mone::cuda

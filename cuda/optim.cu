// The fused AdamW kernel for cuda/optim.h: kernel, then launcher.
// Shape letters: n the element count.
#include <cuda_runtime.h>

#include "cuda/launch_util.cuh"
#include "cuda/optim.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

// The CPU's arithmetic (ops/cpu/optim.cpp): (lr / bias1) · m / (sqrt(v) / sqrt(bias2) + eps).
__global__ void adamw_kernel(float* param, const float* grad, float* m, float* v, int64_t n, double beta1,
                             double beta2, double eps, double step_size, double inv_sqrt_bias2, double decay) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double g = grad[i];
    double w = param[i] * decay;  // decoupled: the decay never enters m or v
    const double mi = beta1 * m[i] + (1.0 - beta1) * g;
    const double vi = beta2 * v[i] + (1.0 - beta2) * g * g;
    w -= step_size * mi / (sqrt(vi) * inv_sqrt_bias2 + eps);
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    param[i] = static_cast<float>(w);
  }
}

}  // namespace

// ---- launchers ----

cudaError_t adamw_step(float* param, const float* grad, float* m, float* v, int64_t n, double lr, double beta1,
                       double beta2, double eps, double weight_decay, double bias1, double bias2,
                       cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  adamw_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(param, grad, m, v, n, beta1, beta2, eps, lr / bias1,
                                                             1.0 / sqrt(bias2), 1.0 - lr * weight_decay);
  return cudaGetLastError();
}

}  // namespace mone::cuda

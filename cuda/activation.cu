// Activation kernels for cuda/activation.h: kernels, then launchers.
// Shape letters: n the element count.
#include "cuda/activation.h"
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"

namespace mone::cuda {

namespace {

// ---- kernels ----

template <typename D>
__global__ void activation_forward_kernel(ops::Activation act, const D* x, int64_t n, D* y) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = to_float(x[i]), s = stable_sigmoid(v);
    y[i] = from_float<D>(act == ops::Activation::kSigmoid ? s : v * s);
  }
}

template <typename D>
__global__ void activation_backward_kernel(ops::Activation act, const D* grad_out, const D* in, int64_t n,
                                           D* grad_x) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = to_float(in[i]);
    const float d = act == ops::Activation::kSigmoid ? v * (1.f - v) : silu_grad(v, stable_sigmoid(v));
    grad_x[i] = from_float<D>(to_float(grad_out[i]) * d);
  }
}

template <typename D>
__global__ void swiglu_forward_kernel(const D* gate, const D* up, int64_t n, D* y) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = to_float(gate[i]);
    y[i] = from_float<D>(g * stable_sigmoid(g) * to_float(up[i]));
  }
}

template <typename D>
__global__ void swiglu_backward_kernel(const D* grad_out, const D* gate, const D* up, int64_t n, D* grad_gate,
                                       D* grad_up) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float go = to_float(grad_out[i]), g = to_float(gate[i]), s = stable_sigmoid(g);
    grad_gate[i] = from_float<D>(go * to_float(up[i]) * silu_grad(g, s));
    grad_up[i] = from_float<D>(go * g * s);
  }
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t activation_forward(ops::Activation act, const T* x, int64_t n, T* y, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  activation_forward_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(act, dev(x), n, dev(y));
  return cudaGetLastError();
}

template <typename T>
cudaError_t activation_backward(ops::Activation act, const T* grad_out, const T* in, int64_t n, T* grad_x,
                                cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  activation_backward_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(act, dev(grad_out), dev(in), n,
                                                                          dev(grad_x));
  return cudaGetLastError();
}

template <typename T>
cudaError_t swiglu_forward(const T* gate, const T* up, int64_t n, T* y, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  swiglu_forward_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(dev(gate), dev(up), n, dev(y));
  return cudaGetLastError();
}

template <typename T>
cudaError_t swiglu_backward(const T* grad_out, const T* gate, const T* up, int64_t n, T* grad_gate, T* grad_up,
                            cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  swiglu_backward_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(dev(grad_out), dev(gate), dev(up), n,
                                                                      dev(grad_gate), dev(grad_up));
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_ACTIVATION_LAUNCHERS)

}  // namespace mone::cuda

// Softmax kernels for cuda/softmax.h: kernels, then launchers. The row's log-sum-exp is
// cuda/device_math.cuh's block_logsumexp (cross_entropy.cu uses it too).
// Shape letters: rows, n the softmax (last) dim.
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/softmax.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

// One block per row: softmax = exp(x - lse), log_softmax = x - lse.
template <typename D>
__global__ void softmax_forward_kernel(const D* x, int64_t n, bool log, D* y) {
  const D* xr = x + blockIdx.x * n;
  D* yr = y + blockIdx.x * n;
  const float lse = block_logsumexp(xr, n);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const float z = to_float(xr[j]) - lse;
    yr[j] = from_float<D>(log ? z : expf(z));
  }
}

// One block per row.
template <typename D>
__global__ void softmax_backward_kernel(const D* grad_out, const D* y, int64_t n, bool log, D* grad_x) {
  __shared__ double scratch[32];
  const int64_t off = blockIdx.x * n;
  // log: Σ g;  softmax: <g, y> (in double, as the CPU)
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const float g = to_float(grad_out[off + j]);
    acc += log ? g : g * to_float(y[off + j]);
  }
  const float s = static_cast<float>(block_sum(acc, scratch));
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const float g = to_float(grad_out[off + j]), yj = to_float(y[off + j]);
    grad_x[off + j] = from_float<D>(log ? g - expf(yj) * s : yj * (g - s));
  }
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t softmax_forward(const T* x, int64_t rows, int64_t n, bool log, T* y, cudaStream_t stream) {
  if (rows == 0 || n == 0) return cudaSuccess;
  if (rows > kMaxGridX) return cudaErrorInvalidValue;
  softmax_forward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, stream>>>(dev(x), n, log, dev(y));
  return cudaGetLastError();
}

template <typename T>
cudaError_t softmax_backward(const T* grad_out, const T* y, int64_t rows, int64_t n, bool log, T* grad_x,
                             cudaStream_t stream) {
  if (rows == 0 || n == 0) return cudaSuccess;
  if (rows > kMaxGridX) return cudaErrorInvalidValue;
  softmax_backward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, stream>>>(dev(grad_out), dev(y), n, log,
                                                                             dev(grad_x));
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_SOFTMAX_LAUNCHERS)

}  // namespace mone::cuda

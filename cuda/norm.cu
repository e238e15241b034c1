// RMSNorm kernels for cuda/norm.h (after llm.c's layernorm kernels): kernels, then launchers.
// Shape letters: N rows, d width, C row chunks.
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/norm.h"
#include "cuda/reduce.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

// One block per row.
template <typename D>
__global__ void rmsnorm_forward_kernel(D* y, D* rstd, const D* x, const D* w, int64_t d, double eps) {
  __shared__ double scratch[32];
  const D* xr = x + blockIdx.x * d;
  D* yr = y + blockIdx.x * d;
  // mean of squares over the row
  double ss = 0.0;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
    const double v = to_float(xr[i]);
    ss += v * v;
  }
  ss = block_sum(ss, scratch);
  // reciprocal root mean square (eps keeps an all-zero row finite)
  const double s = rsqrt(ss / static_cast<double>(d) + eps);
  // normalise, then scale by the learned weight
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
    yr[i] = from_double<D>(static_cast<double>(to_float(xr[i])) * s * to_float(w[i]));
  }
  // keep rstd: the backward needs it
  if (threadIdx.x == 0) rstd[blockIdx.x] = from_double<D>(s);
}

// One block per row: grad_x.
template <typename D>
__global__ void rmsnorm_grad_x_kernel(D* grad_x, const D* grad_y, const D* x, const D* w, const D* rstd, int64_t d) {
  __shared__ double scratch[32];
  const int64_t off = blockIdx.x * d;
  const double s = to_float(rstd[blockIdx.x]);
  // dxhat = grad_y ⊙ w; the one reduction: mean_j(dxhat_j · xhat_j)
  double dot = 0.0;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
    dot += static_cast<double>(to_float(grad_y[off + i])) * to_float(w[i]) * to_float(x[off + i]) * s;
  }
  const double mean_dot = block_sum(dot, scratch) / static_cast<double>(d);
  // grad_x = rstd · (dxhat - xhat · mean(dxhat · xhat))
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
    const double xhat = static_cast<double>(to_float(x[off + i])) * s;
    grad_x[off + i] = from_double<D>(s * (static_cast<double>(to_float(grad_y[off + i])) * to_float(w[i]) -
                                          xhat * mean_dot));
  }
}

// Block (x, c): partials[c, j] = Σ_{r in chunk c} grad_y[r, j] · x[r, j] · rstd[r], rows in order.
template <typename D>
__global__ void rmsnorm_grad_w_partials_kernel(const D* grad_y, const D* x, const D* rstd, int64_t n, int64_t d,
                                               double* partials) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= d) return;
  const int64_t r0 = blockIdx.y * kRowsPerChunk, r1 = min(n, r0 + kRowsPerChunk);
  double acc = 0.0;
  for (int64_t r = r0; r < r1; ++r) {
    acc += static_cast<double>(to_float(grad_y[r * d + j])) * to_float(x[r * d + j]) * to_float(rstd[r]);
  }
  partials[blockIdx.y * d + j] = acc;
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t rmsnorm_forward(T* y, T* rstd, const T* x, const T* w, int64_t n, int64_t d, double eps,
                            cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (n > kMaxGridX || d == 0) return cudaErrorInvalidValue;
  rmsnorm_forward_kernel<<<static_cast<unsigned>(n), kBlock, 0, stream>>>(dev(y), dev(rstd), dev(x), dev(w), d, eps);
  return cudaGetLastError();
}

template <typename T>
cudaError_t rmsnorm_backward(T* grad_x, T* grad_w, const T* grad_y, const T* x, const T* w, const T* rstd, int64_t n,
                             int64_t d, double* partials, cudaStream_t stream) {
  if (d == 0) return cudaSuccess;
  const int64_t chunks = row_chunks(n);
  if (n > kMaxGridX || chunks > 65535 || ceil_div(d, kBlock) > kMaxGridX) return cudaErrorInvalidValue;
  if (n > 0) {
    rmsnorm_grad_x_kernel<<<static_cast<unsigned>(n), kBlock, 0, stream>>>(dev(grad_x), dev(grad_y), dev(x), dev(w),
                                                                         dev(rstd), d);
    const dim3 grid(static_cast<unsigned>(ceil_div(d, kBlock)), static_cast<unsigned>(chunks));
    rmsnorm_grad_w_partials_kernel<<<grid, kBlock, 0, stream>>>(dev(grad_y), dev(x), dev(rstd), n, d, partials);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }
  return sum_partials(partials, chunks, d, grad_w, stream);
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_NORM_LAUNCHERS)

}  // namespace mone::cuda

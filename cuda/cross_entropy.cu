// Cross-entropy kernels for cuda/cross_entropy.h: kernels, then launchers.
// Shape letters: N rows (tokens), V vocab.
#include "cuda/cross_entropy.h"
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"

namespace mone::cuda {

namespace {

// Threads per row: a vocabulary row is long.
constexpr int kRowBlock = 512;

// ---- kernels ----

// One block per row: -log softmax(row)[t] = lse - row[t].
template <typename D>
__global__ void cross_entropy_rows_kernel(const D* logits, const int64_t* targets, int64_t V, int64_t ignore_index,
                                          D* lse, double* row_loss) {
  const D* row = logits + blockIdx.x * V;
  const float l = block_logsumexp(row, V);
  if (threadIdx.x == 0) {
    const int64_t t = targets[blockIdx.x];
    lse[blockIdx.x] = from_float<D>(l);
    row_loss[blockIdx.x] = t == ignore_index ? 0.0 : static_cast<double>(l) - to_float(row[t]);
  }
}

// One block: loss = Σ_r row_loss[r] / count.
template <typename D>
__global__ void cross_entropy_mean_kernel(const double* row_loss, int64_t N, int64_t count, D* loss) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int64_t r = threadIdx.x; r < N; r += blockDim.x) s += row_loss[r];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) loss[0] = from_double<D>(count == 0 ? 0.0 : s / static_cast<double>(count));
}

// One block per row: d loss / d logits[r, v] = (softmax_v - [v = t]) · grad_loss / C.
template <typename D>
__global__ void cross_entropy_backward_kernel(const D* logits, const int64_t* targets, const D* lse, int64_t V,
                                              int64_t ignore_index, const D* grad_loss, int64_t count,
                                              D* grad_logits) {
  const D* row = logits + blockIdx.x * V;
  D* out = grad_logits + blockIdx.x * V;
  const int64_t t = targets[blockIdx.x];
  const float scale = count == 0 ? 0.f : static_cast<float>(static_cast<double>(to_float(grad_loss[0])) / count);
  const float l = to_float(lse[blockIdx.x]);
  for (int64_t v = threadIdx.x; v < V; v += blockDim.x) {
    const float g = t == ignore_index ? 0.f : (expf(to_float(row[v]) - l) - (v == t ? 1.f : 0.f)) * scale;
    out[v] = from_float<D>(g);
  }
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t cross_entropy_forward(const T* logits, const int64_t* targets, int64_t N, int64_t V, int64_t ignore_index,
                                  int64_t count, T* lse, double* row_loss, T* loss, cudaStream_t stream) {
  if (N > kMaxGridX || (N > 0 && V == 0)) return cudaErrorInvalidValue;
  if (N > 0) {
    cross_entropy_rows_kernel<<<static_cast<unsigned>(N), kRowBlock, 0, stream>>>(dev(logits), targets, V,
                                                                                 ignore_index, dev(lse), row_loss);
  }
  cross_entropy_mean_kernel<<<1, kRowBlock, 0, stream>>>(row_loss, N, count, dev(loss));
  return cudaGetLastError();
}

template <typename T>
cudaError_t cross_entropy_backward(const T* logits, const int64_t* targets, const T* lse, int64_t N, int64_t V,
                                   int64_t ignore_index, const T* grad_loss, int64_t count, T* grad_logits,
                                   cudaStream_t stream) {
  if (N == 0 || V == 0) return cudaSuccess;
  if (N > kMaxGridX) return cudaErrorInvalidValue;
  cross_entropy_backward_kernel<<<static_cast<unsigned>(N), kRowBlock, 0, stream>>>(
      dev(logits), targets, dev(lse), V, ignore_index, dev(grad_loss), count, dev(grad_logits));
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_CROSS_ENTROPY_LAUNCHERS)

}  // namespace mone::cuda

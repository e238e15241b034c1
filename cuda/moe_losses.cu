// Auxiliary-loss kernels for cuda/moe_losses.h: kernels, then launchers. Router rows (E values)
// run one thread per row, in the CPU's order; neuron rows (D values) one block per row.
// Shape letters: N tokens, E experts, K experts per token, R rows grouped by expert, D expert
//   width, K_N neurons kept.
#include <cuda_runtime.h>

#include "cuda/bf16.cuh"
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/moe_losses.h"
#include "cuda/mone_ffn.h"

namespace mone::cuda {

namespace {

constexpr int kRowThreads = 128;

// log Σ_j exp(z_j) over one row of n > 0 values, in double, in order (ops/cpu/math.h's logsumexp).
template <typename T>
__device__ double row_logsumexp(const T* z, int64_t n) {
  double m = load_f32(z);
  for (int64_t j = 1; j < n; ++j) m = fmax(m, static_cast<double>(load_f32(z + j)));
  if (isinf(m)) return m;
  double s = 0.0;
  for (int64_t j = 0; j < n; ++j) s += exp(static_cast<double>(load_f32(z + j)) - m);
  return m + log(s);
}

__device__ __forceinline__ double sign_of(float v) { return static_cast<double>((v > 0.f) - (v < 0.f)); }

// Row r's expert e, its row count T_e, and E' (the experts with rows).
struct NeuronRow {
  int64_t e, rows_e, active;
};
__device__ NeuronRow neuron_row(const int64_t* offsets, int64_t experts, int64_t rows, int64_t r) {
  if (offsets == nullptr) return {0, rows, 1};
  NeuronRow row{expert_of_row(offsets, experts, r), 0, 0};
  row.rows_e = offsets[row.e + 1] - offsets[row.e];
  for (int64_t e = 0; e < experts; ++e) row.active += offsets[e + 1] > offsets[e];
  return row;
}

// ---- kernels ----

template <typename T>
__global__ void load_balance_rows_kernel(const T* probs, const int64_t* counts, int64_t n, int64_t e, int64_t k,
                                         double* row_terms) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double s = 0.0;
    for (int64_t j = 0; j < e; ++j) {
      s += static_cast<double>(counts[j]) / static_cast<double>(n * k) * fabs(static_cast<double>(load_f32(probs + t * e + j)));
    }
    row_terms[t] = s;
  }
}

template <typename T>
__global__ void load_balance_backward_kernel(const T* grad_loss, const T* probs, const int64_t* counts, int64_t n,
                                             int64_t e, int64_t k, T* grad_probs) {
  const double grad = load_f32(grad_loss);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n * e;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double f = static_cast<double>(counts[i % e]) / static_cast<double>(n * k);
    const double c = grad * e * f / n;
    store_f32(grad_probs + i, static_cast<float>(c * sign_of(load_f32(probs + i))));
  }
}

template <typename T>
__global__ void z_loss_rows_kernel(const T* logits, int64_t n, int64_t e, double* row_terms) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double lse = row_logsumexp(logits + t * e, e);
    row_terms[t] = lse * lse;
  }
}

template <typename T>
__global__ void z_loss_backward_kernel(const T* grad_loss, const T* logits, int64_t n, int64_t e, T* grad_logits) {
  const double grad = load_f32(grad_loss);
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const T* z = logits + t * e;
    const double lse = row_logsumexp(z, e);
    // d lse / d z = softmax(z) = exp(z − lse)
    for (int64_t j = 0; j < e; ++j) {
      store_f32(grad_logits + t * e + j,
                static_cast<float>(grad * 2.0 * lse * exp(static_cast<double>(load_f32(z + j)) - lse) / n));
    }
  }
}

__global__ void neuron_counts_kernel(const int32_t* idx, const int64_t* offsets, int64_t experts, int64_t n,
                                     int64_t k_n, int64_t D, int64_t* counts) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < n;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t e = expert_of_row(offsets, experts, p / k_n);
    atomicAdd(reinterpret_cast<unsigned long long*>(counts + e * D + idx[p]), 1ull);
  }
}

// Block r: row r's term of L_NG.
template <typename T>
__global__ void neuron_balance_rows_kernel(const T* g, const int64_t* counts, const int64_t* offsets, int64_t experts,
                                           int64_t rows, int64_t D, int64_t k_n, ops::NeuronLossForm form,
                                           double* row_terms) {
  __shared__ double scratch[32];
  const int64_t r = blockIdx.x;
  const NeuronRow row = neuron_row(offsets, experts, rows, r);
  const T* gr = g + r * D;
  const int64_t* ce = counts + row.e * D;
  double sum = 0.0;  // Σ_j |G_j|
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) sum += fabs(static_cast<double>(load_f32(gr + j)));
  sum = block_sum(sum, scratch);
  double s = 0.0;  // Σ_j F_j q_j
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const double m = fabs(static_cast<double>(load_f32(gr + j)));
    const double q = form == ops::NeuronLossForm::kRaw ? m : (sum > 0.0 ? m / sum : 0.0);
    s += static_cast<double>(ce[j]) / static_cast<double>(row.rows_e * k_n) * q;
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) row_terms[r] = static_cast<double>(D) * s / static_cast<double>(row.rows_e) / row.active;
}

// Block r: row r of grad_g. With c_j = (grad / E') · D · F_j / T_e:  raw c_j sign(G_j);
// normalised (c_j − Σ_j' c_j' q_j') / Σ_j' |G_j'| · sign(G_j).
template <typename T>
__global__ void neuron_balance_backward_kernel(const T* grad_loss, const T* g, const int64_t* counts,
                                               const int64_t* offsets, int64_t experts, int64_t rows, int64_t D,
                                               int64_t k_n, ops::NeuronLossForm form, T* grad_g) {
  __shared__ double scratch[32];
  const int64_t r = blockIdx.x;
  const NeuronRow row = neuron_row(offsets, experts, rows, r);
  const double grad = static_cast<double>(load_f32(grad_loss)) / row.active;
  const T* gr = g + r * D;
  const int64_t* ce = counts + row.e * D;
  auto c = [&](int64_t j) {
    return grad * D * (static_cast<double>(ce[j]) / static_cast<double>(row.rows_e * k_n)) / row.rows_e;
  };
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) sum += fabs(static_cast<double>(load_f32(gr + j)));
  sum = block_sum(sum, scratch);
  double c_dot_q = 0.0;
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const double m = fabs(static_cast<double>(load_f32(gr + j)));
    c_dot_q += c(j) * (form == ops::NeuronLossForm::kRaw ? m : (sum > 0.0 ? m / sum : 0.0));
  }
  c_dot_q = block_sum(c_dot_q, scratch);
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    double d_abs = c(j);
    if (form == ops::NeuronLossForm::kNormalized) d_abs = sum > 0.0 ? (c(j) - c_dot_q) / sum : 0.0;
    store_f32(grad_g + r * D + j, static_cast<float>(d_abs * sign_of(load_f32(gr + j))));
  }
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t load_balance_rows(const T* probs, const int64_t* counts, int64_t n, int64_t e, int64_t k,
                              double* row_terms, cudaStream_t stream) {
  if (n < 0 || e < 1 || k < 1) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  load_balance_rows_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(probs, counts, n, e, k, row_terms);
  return cudaGetLastError();
}

template <typename T>
cudaError_t load_balance_backward(const T* grad_loss, const T* probs, const int64_t* counts, int64_t n, int64_t e,
                                  int64_t k, T* grad_probs, cudaStream_t stream) {
  if (n < 0 || e < 1 || k < 1) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  load_balance_backward_kernel<<<grid_stride_blocks(n * e), kBlock, 0, stream>>>(grad_loss, probs, counts, n, e, k,
                                                                                  grad_probs);
  return cudaGetLastError();
}

template <typename T>
cudaError_t z_loss_rows(const T* logits, int64_t n, int64_t e, double* row_terms, cudaStream_t stream) {
  if (n < 0 || e < 1) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  z_loss_rows_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(logits, n, e, row_terms);
  return cudaGetLastError();
}

template <typename T>
cudaError_t z_loss_backward(const T* grad_loss, const T* logits, int64_t n, int64_t e, T* grad_logits,
                            cudaStream_t stream) {
  if (n < 0 || e < 1) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  z_loss_backward_kernel<<<grid_stride_blocks(n), kBlock, 0, stream>>>(grad_loss, logits, n, e, grad_logits);
  return cudaGetLastError();
}

cudaError_t neuron_counts(const int32_t* idx, const int64_t* offsets, int64_t experts, int64_t rows, int64_t k_n,
                          int64_t D, int64_t* counts, cudaStream_t stream) {
  if (experts < 1 || rows < 0 || k_n < 1 || D < 1) return cudaErrorInvalidValue;
  cudaError_t err = cudaMemsetAsync(counts, 0, static_cast<size_t>(experts * D) * sizeof(int64_t), stream);
  if (err != cudaSuccess || rows == 0) return err;
  neuron_counts_kernel<<<grid_stride_blocks(rows * k_n), kBlock, 0, stream>>>(idx, offsets, experts, rows * k_n, k_n,
                                                                              D, counts);
  return cudaGetLastError();
}

template <typename T>
cudaError_t neuron_balance_rows(const T* g, const int64_t* counts, const int64_t* offsets, int64_t experts,
                                int64_t rows, int64_t D, int64_t k_n, ops::NeuronLossForm form, double* row_terms,
                                cudaStream_t stream) {
  if (experts < 1 || rows < 0 || rows > kMaxGridX || D < 1 || k_n < 1) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  neuron_balance_rows_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(g, counts, offsets, experts,
                                                                                     rows, D, k_n, form, row_terms);
  return cudaGetLastError();
}

template <typename T>
cudaError_t neuron_balance_backward(const T* grad_loss, const T* g, const int64_t* counts, const int64_t* offsets,
                                    int64_t experts, int64_t rows, int64_t D, int64_t k_n, ops::NeuronLossForm form,
                                    T* grad_g, cudaStream_t stream) {
  if (experts < 1 || rows < 0 || rows > kMaxGridX || D < 1 || k_n < 1) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  neuron_balance_backward_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
      grad_loss, g, counts, offsets, experts, rows, D, k_n, form, grad_g);
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_MOE_LOSSES_LAUNCHERS)

}  // namespace mone::cuda

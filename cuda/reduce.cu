// Reduction kernels for cuda/reduce.h: kernels, then launchers. Every sum is a fixed tree:
// per-thread strided sums, then cuda/device_math.cuh's block_sum, then partials in order.
// Shape letters: [rows, n] reduced over n (sum_last); [rows, m] summed over rows (sum_rows);
//   C chunks of kRowsPerChunk rows.
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/reduce.h"

namespace mone::cuda {

namespace {

// ---- kernels ----

// An element as double: f32 and bf16 through float, double as it is.
template <typename D>
__device__ __forceinline__ double widen(D x) {
  return to_float(x);
}
__device__ __forceinline__ double widen(double x) { return x; }

// partials[b] = Σ x[i] (or x[i]²) over the i that block b's threads visit in a grid-stride loop.
template <typename D, bool kSquares>
__global__ void partial_sums_kernel(const D* x, int64_t n, double* partials) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double v = widen(x[i]);
    s += kSquares ? v * v : v;
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

// One block: scale · Σ partials[0, count) into out_t[0] (as D) or out_d[0] (as double).
template <typename D>
__global__ void finish_sum_kernel(const double* partials, int count, double scale, D* out_t, double* out_d) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) s += partials[i];
  s = block_sum(s, scratch) * scale;
  if (threadIdx.x == 0) {
    if (out_t != nullptr) out_t[0] = from_double<D>(s);
    if (out_d != nullptr) out_d[0] = s;
  }
}

// One block per row: out[r] = Σ_j x[r, j].
template <typename D>
__global__ void sum_last_kernel(const D* x, int64_t n, D* out) {
  __shared__ double scratch[32];
  const D* row = x + blockIdx.x * n;
  double s = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += to_float(row[j]);
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) out[blockIdx.x] = from_double<D>(s);
}

template <typename D>
__global__ void broadcast_last_kernel(const D* g, int64_t total, int64_t n, float s, D* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = from_float<D>(s * to_float(g[i / n]));
  }
}

// Block (x, c): partials[c, j] = Σ_{r in chunk c} x[r, j] for its columns j, rows in order.
template <typename D>
__global__ void chunk_column_sums_kernel(const D* x, int64_t rows, int64_t m, double* partials) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= m) return;
  const int64_t r0 = blockIdx.y * kRowsPerChunk, r1 = min(rows, r0 + kRowsPerChunk);
  double s = 0.0;
  for (int64_t r = r0; r < r1; ++r) s += to_float(x[r * m + j]);
  partials[blockIdx.y * m + j] = s;
}

// out[j] = Σ_c partials[c, j], chunks in order.
template <typename D>
__global__ void sum_partials_kernel(const double* partials, int64_t chunks, int64_t m, D* out) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= m) return;
  double s = 0.0;
  for (int64_t c = 0; c < chunks; ++c) s += partials[c * m + j];
  out[j] = from_double<D>(s);
}

// The two passes of sum_all / sum_f64 / sum_squares (X the input, T the output element); the grid
// depends on n only.
template <typename X, typename T, bool kSquares>
cudaError_t total(const X* x, int64_t n, double scale, double* partials, T* out_t, double* out_d,
                  cudaStream_t stream) {
  const int64_t blocks = n == 0 ? 1 : (ceil_div(n, kBlock) < kSumPartials ? ceil_div(n, kBlock) : kSumPartials);
  partial_sums_kernel<device_t<X>, kSquares><<<static_cast<int>(blocks), kBlock, 0, stream>>>(dev(x), n, partials);
  finish_sum_kernel<<<1, kBlock, 0, stream>>>(partials, static_cast<int>(blocks), scale, dev(out_t), out_d);
  return cudaGetLastError();
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t sum_all(const T* x, int64_t n, double scale, double* partials, T* out, cudaStream_t stream) {
  return total<T, T, false>(x, n, scale, partials, out, nullptr, stream);
}

template <typename T>
cudaError_t sum_f64(const double* x, int64_t n, double scale, double* partials, T* out, cudaStream_t stream) {
  return total<double, T, false>(x, n, scale, partials, out, nullptr, stream);
}

template <typename T>
cudaError_t sum_squares(const T* x, int64_t n, double* partials, double* out, cudaStream_t stream) {
  return total<T, T, true>(x, n, 1.0, partials, static_cast<T*>(nullptr), out, stream);
}

template <typename T>
cudaError_t sum_last(const T* x, int64_t rows, int64_t n, T* out, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (rows > kMaxGridX) return cudaErrorInvalidValue;
  sum_last_kernel<<<static_cast<unsigned>(rows), kBlock, 0, stream>>>(dev(x), n, dev(out));
  return cudaGetLastError();
}

template <typename T>
cudaError_t broadcast_last(const T* g, int64_t rows, int64_t n, float s, T* out, cudaStream_t stream) {
  const int64_t total_n = rows * n;
  if (total_n == 0) return cudaSuccess;
  broadcast_last_kernel<<<grid_stride_blocks(total_n), kBlock, 0, stream>>>(dev(g), total_n, n, s, dev(out));
  return cudaGetLastError();
}

template <typename T>
cudaError_t sum_rows(const T* x, int64_t rows, int64_t m, double* partials, T* out, cudaStream_t stream) {
  if (m == 0) return cudaSuccess;
  const int64_t chunks = row_chunks(rows);
  if (chunks > 65535 || ceil_div(m, kBlock) > kMaxGridX) return cudaErrorInvalidValue;
  if (chunks > 0) {
    const dim3 grid(static_cast<unsigned>(ceil_div(m, kBlock)), static_cast<unsigned>(chunks));
    chunk_column_sums_kernel<<<grid, kBlock, 0, stream>>>(dev(x), rows, m, partials);
  }
  return sum_partials(partials, chunks, m, out, stream);
}

template <typename T>
cudaError_t sum_partials(const double* partials, int64_t chunks, int64_t m, T* out, cudaStream_t stream) {
  if (m == 0) return cudaSuccess;
  if (ceil_div(m, kBlock) > kMaxGridX) return cudaErrorInvalidValue;
  sum_partials_kernel<<<static_cast<unsigned>(ceil_div(m, kBlock)), kBlock, 0, stream>>>(partials, chunks, m,
                                                                                         dev(out));
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_REDUCE_LAUNCHERS)

}  // namespace mone::cuda

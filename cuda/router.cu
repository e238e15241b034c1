// Router kernels for cuda/router.h: kernels, then launchers. One block per token row.
// Shape letters: N tokens, E experts, K experts per token.
#include "cuda/bf16.cuh"
#include "cuda/device_math.cuh"
#include "cuda/launch_util.cuh"
#include "cuda/router.h"

namespace mone::cuda {

namespace {

constexpr int kRowThreads = 128;

// ---- kernels ----

// Block t: token t's probabilities, its K experts in slot order, and their weights.
template <typename T>
__global__ void router_select_kernel(const T* logits, int64_t e, int64_t k, bool norm_topk_prob, T* probs,
                                     int32_t* expert_ids, T* weights) {
  __shared__ float max_scratch[32];
  __shared__ double sum_scratch[32];
  const int64_t t = blockIdx.x;
  const T* z = logits + t * e;
  T* p = probs + t * e;
  // p = exp(z − lse), lse = m + log Σ exp(z − m) in double (ops/cpu/math.h's logsumexp).
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < e; j += blockDim.x) m = fmaxf(m, load_f32(z + j));
  m = block_max(m, max_scratch);
  double lse = m;
  if (!isinf(m)) {
    double s = 0.0;
    for (int64_t j = threadIdx.x; j < e; j += blockDim.x) s += exp(static_cast<double>(load_f32(z + j)) - m);
    lse = m + log(block_sum(s, sum_scratch));
  }
  for (int64_t j = threadIdx.x; j < e; j += blockDim.x) {
    store_f32(p + j, static_cast<float>(exp(static_cast<double>(load_f32(z + j)) - lse)));
  }
  __syncthreads();  // the row of p is written: every thread ranks against all of it
  // S_t: expert j goes to slot rank(j) when that is below K; g = p_S.
  for (int64_t j = threadIdx.x; j < e; j += blockDim.x) {
    const int64_t slot = router_rank([&](int64_t i) { return topk_order_key(load_f32(p + i)); }, e, j);
    if (slot < k) {
      expert_ids[t * k + slot] = static_cast<int32_t>(j);
      weights[t * k + slot] = p[j];
    }
  }
  if (!norm_topk_prob) return;
  __syncthreads();
  // g_s / Σ_s' g_s', the sum in double in slot order.
  if (threadIdx.x == 0) {
    T* g = weights + t * k;
    double selected_sum = 0.0;
    for (int64_t s = 0; s < k; ++s) selected_sum += load_f32(g + s);
    for (int64_t s = 0; s < k; ++s) store_f32(g + s, static_cast<float>(load_f32(g + s) / selected_sum));
  }
}

// Block t: d logits of token t.
template <typename T>
__global__ void router_backward_kernel(const T* grad_weights, const T* grad_probs, const T* grad_logits_extra,
                                       const T* probs, const int32_t* expert_ids, const T* weights, int64_t e,
                                       int64_t k, bool norm_topk_prob, T* grad_logits) {
  __shared__ double scratch[32];
  const int64_t t = blockIdx.x;
  const T* p = probs + t * e;
  const int32_t* ids = expert_ids + t * k;
  const T* dg = grad_weights == nullptr ? nullptr : grad_weights + t * k;
  // With renormalisation, g_s = p_s / S:  dp_s = (dg_s − Σ_s' dg_s' g_s') / S (sums in slot order).
  double selected_sum = 0.0, dg_dot_g = 0.0;
  if (dg != nullptr && norm_topk_prob) {
    for (int64_t s = 0; s < k; ++s) {
      selected_sum += load_f32(p + ids[s]);
      dg_dot_g += static_cast<double>(load_f32(dg + s)) * load_f32(weights + t * k + s);
    }
  }
  // dp_j: the direct gradient on p_j, plus the weights' gradient when j is selected.
  auto dp = [&](int64_t j) {
    double v = grad_probs == nullptr ? 0.0 : load_f32(grad_probs + t * e + j);
    if (dg == nullptr) return v;
    for (int64_t s = 0; s < k; ++s) {
      if (ids[s] != j) continue;
      v += norm_topk_prob ? (load_f32(dg + s) - dg_dot_g) / selected_sum : static_cast<double>(load_f32(dg + s));
    }
    return v;
  };
  // Softmax backward: dz = p ⊙ (dp − p · dp), plus the z-loss's gradient.
  double p_dot_dp = 0.0;
  for (int64_t j = threadIdx.x; j < e; j += blockDim.x) p_dot_dp += load_f32(p + j) * dp(j);
  p_dot_dp = block_sum(p_dot_dp, scratch);
  for (int64_t j = threadIdx.x; j < e; j += blockDim.x) {
    double v = load_f32(p + j) * (dp(j) - p_dot_dp);
    if (grad_logits_extra != nullptr) v += load_f32(grad_logits_extra + t * e + j);
    store_f32(grad_logits + t * e + j, static_cast<float>(v));
  }
}

}  // namespace

// ---- launchers ----

template <typename T>
cudaError_t router_select(const T* logits, int64_t n, int64_t e, int64_t k, bool norm_topk_prob, T* probs,
                          int32_t* expert_ids, T* weights, cudaStream_t stream) {
  if (n < 0 || e < 1 || k < 1 || k > e || n > kMaxGridX) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  router_select_kernel<<<static_cast<unsigned>(n), kRowThreads, 0, stream>>>(logits, e, k, norm_topk_prob, probs,
                                                                             expert_ids, weights);
  return cudaGetLastError();
}

template <typename T>
cudaError_t router_logits_backward(const T* grad_weights, const T* grad_probs, const T* grad_logits_extra,
                                   const T* probs, const int32_t* expert_ids, const T* weights, int64_t n, int64_t e,
                                   int64_t k, bool norm_topk_prob, T* grad_logits, cudaStream_t stream) {
  if (n < 0 || e < 1 || k < 1 || k > e || n > kMaxGridX) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  router_backward_kernel<<<static_cast<unsigned>(n), kRowThreads, 0, stream>>>(
      grad_weights, grad_probs, grad_logits_extra, probs, expert_ids, weights, e, k, norm_topk_prob, grad_logits);
  return cudaGetLastError();
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_ROUTER_LAUNCHERS)

}  // namespace mone::cuda

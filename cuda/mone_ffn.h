// CUDA launchers for ops/mone_ffn.h (T = float or bf16): the kernels between the expert GEMMs,
// which the op runs through cuBLAS, one per expert (ops/mone_ffn_cuda.cpp). Values compute in
// f32 and round once to T on the store; every sum runs in a fixed order and no kernel uses float
// atomics, so two runs give the same bits.
//
//   neuron_topk         I per row: the radix select of cuda/neuron_select.h (K_N = D: 0..D-1)
//   select_masked       masked-dense: u = U[I], h = G[I] ⊙ u, and U's buffer becomes H
//   scatter_selected    H [R, D] from h (zero off I): the backward's dense H
//   gathered_up         gathered: u_k = W_up[e][I_k] · x_t, h_k = G_{I_k} u_k
//   gathered_sum        out_t = Σ_k coef_k W[e][I_k, :] in k order: y (W = W_downᵀ, coef = h) and
//                       the gathered backward's dx (W = W_up, coef = du)
//   transpose_experts   [E, a, b] -> [E, b, a] (W_down <-> W_downᵀ)
//   hard_backward       da = (dG_extra + dH ⊙ u on I) ⊙ act'(a), dU = dH ⊙ G on I (0 elsewhere);
//                       without dH, da = dG_extra ⊙ act'(a)
//   straight_through_backward   every neuron: da = (dG_extra + dH ⊙ U) ⊙ act'(a), dU = dH ⊙ G
//   gathered_dh         gathered HARD: dh_k = W_downᵀ[e][I_k] · dy_t; da on I as hard_backward;
//                       du_k = dh_k G_{I_k}
//   gathered_weight_grads   dW_downᵀ[e][j] = Σ_{t keeps j} h dy_t and dW_up[e][j] = Σ_{t keeps j} du x_t,
//                       the rows of each (e, j) in token order, found by one stable sort of the
//                       selections by (expert, neuron) (cuda/sort.h); rows nobody kept are 0
// A row's expert comes from the offsets on the device (expert_of_row); without offsets (one
// expert) it is 0. Weights are stacked: W_gate, W_up, W_downᵀ [E, D, d]; W_down [E, d, D].
//
// Shape letters: R rows grouped by expert, d model width, E experts, D expert width, K_N neurons
//   kept per row.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "cuda/hd.h"
#include "cuda/launch.h"
#include "ops/op_types.h"

namespace mone::cuda {

// The rows of one call: expert e owns rows [offsets[e], offsets[e + 1]).
struct ExpertRows {
  const int64_t* offsets;  // [E + 1] on the device, or nullptr: one expert over all rows
  int64_t experts;         // E (1 without offsets)
  int64_t rows;            // R
  int64_t d, D, k_n;
};

// The expert that owns row r: the last e < E with offsets[e] <= r (empty experts before it
// share its start). 0 without offsets.
MONE_HD int64_t expert_of_row(const int64_t* offsets, int64_t experts, int64_t r) {
  if (offsets == nullptr) return 0;
  int64_t lo = 0, hi = experts;  // offsets[lo] <= r; the answer is in [lo, hi)
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (offsets[mid] <= r) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

template <typename T>
cudaError_t neuron_topk(const T* g, int64_t rows, int64_t D, int64_t k_n, int32_t* idx, cudaStream_t stream);

// dense [R, D]: U on entry, H on return; u, h [R, K_N].
template <typename T>
cudaError_t select_masked(T* dense, const T* g, const int32_t* idx, int64_t rows, int64_t D, int64_t k_n, T* u, T* h,
                          cudaStream_t stream);

template <typename T>
cudaError_t scatter_selected(const T* h, const int32_t* idx, int64_t rows, int64_t D, int64_t k_n, T* dense,
                             cudaStream_t stream);

template <typename T>
cudaError_t gathered_up(const T* x, const T* w_up, const T* g, const int32_t* idx, const ExpertRows& s, T* u, T* h,
                        cudaStream_t stream);

// out [R, d] (=); w [E, D, d], coef [R, K_N].
template <typename T>
cudaError_t gathered_sum(const T* w, const T* coef, const int32_t* idx, const ExpertRows& s, T* out,
                         cudaStream_t stream);

// out[e] = in[e]ᵀ: in [E, rows, cols], out [E, cols, rows].
template <typename T>
cudaError_t transpose_experts(const T* in, int64_t experts, int64_t rows, int64_t cols, T* out, cudaStream_t stream);

// dH [R, D] or nullptr; grad_g_extra [R, D] or nullptr; da [R, D] (=); dU [R, D] (=) or nullptr.
template <typename T>
cudaError_t hard_backward(const T* dH, const T* grad_g_extra, const T* a, const T* g, const int32_t* idx, const T* u,
                          int64_t rows, int64_t D, int64_t k_n, ops::Activation act, T* da, T* dU,
                          cudaStream_t stream);

// In place over n = R·D elements: dH becomes da, U becomes dU. grad_g_extra may be nullptr.
template <typename T>
cudaError_t straight_through_backward(const T* grad_g_extra, const T* a, const T* g, int64_t n, ops::Activation act,
                                      T* dH_to_da, T* U_to_dU, cudaStream_t stream);

// da [R, D]: on entry grad_g_extra ⊙ act'(a) (hard_backward without dH); the selected entries are
// overwritten. du [R, K_N] (=). w_down_t [E, D, d].
template <typename T>
cudaError_t gathered_dh(const T* w_down_t, const T* dy, const T* grad_g_extra, const T* a, const T* g,
                        const int32_t* idx, const T* u, const ExpertRows& s, ops::Activation act, T* da, T* du,
                        cudaStream_t stream);

// Workspace bytes for gathered_weight_grads (R·K_N < 2^31 selections).
cudaError_t gathered_weight_grads_workspace(int64_t selections, size_t* bytes);

// grad_w_down_t, grad_w_up [E, D, d] (=).
template <typename T>
cudaError_t gathered_weight_grads(const T* dy, const T* x, const T* h, const T* du, const int32_t* idx,
                                  const ExpertRows& s, void* workspace, size_t workspace_bytes, T* grad_w_down_t,
                                  T* grad_w_up, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_MONE_FFN_LAUNCHERS(T)                                                                            \
  template cudaError_t neuron_topk<T>(const T*, int64_t, int64_t, int64_t, int32_t*, cudaStream_t);                 \
  template cudaError_t select_masked<T>(T*, const T*, const int32_t*, int64_t, int64_t, int64_t, T*, T*,            \
                                        cudaStream_t);                                                              \
  template cudaError_t scatter_selected<T>(const T*, const int32_t*, int64_t, int64_t, int64_t, T*, cudaStream_t);  \
  template cudaError_t gathered_up<T>(const T*, const T*, const T*, const int32_t*, const ExpertRows&, T*, T*,      \
                                      cudaStream_t);                                                                \
  template cudaError_t gathered_sum<T>(const T*, const T*, const int32_t*, const ExpertRows&, T*, cudaStream_t);    \
  template cudaError_t transpose_experts<T>(const T*, int64_t, int64_t, int64_t, T*, cudaStream_t);                 \
  template cudaError_t hard_backward<T>(const T*, const T*, const T*, const T*, const int32_t*, const T*, int64_t,  \
                                        int64_t, int64_t, ops::Activation, T*, T*, cudaStream_t);                   \
  template cudaError_t straight_through_backward<T>(const T*, const T*, const T*, int64_t, ops::Activation, T*, T*, \
                                                    cudaStream_t);                                                  \
  template cudaError_t gathered_dh<T>(const T*, const T*, const T*, const T*, const T*, const int32_t*, const T*,   \
                                      const ExpertRows&, ops::Activation, T*, T*, cudaStream_t);                    \
  template cudaError_t gathered_weight_grads<T>(const T*, const T*, const T*, const T*, const int32_t*,             \
                                                const ExpertRows&, void*, size_t, T*, T*, cudaStream_t);

// CPU kernels for ops/moe_dispatch.h. Contiguous row-major inputs.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R = N·K routed rows.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// Counting sort of the N·K pairs by expert id (ids already checked to lie in [0, E)).
// Writes counts [E], offsets [E+1], order [N·K], slot_row [N·K].
void build_dispatch(const int64_t* expert_ids, int64_t n, int64_t k, int64_t e, int64_t* counts, int64_t* offsets,
                    int64_t* order, int64_t* slot_row);

// x_perm[r] = x[order[r] / k].
template <typename T>
void permute_forward(const T* x, const int64_t* order, int64_t rows, int64_t k, int64_t d, T* x_perm);

// out[t] = Σ_s weights[t, s] · rows[slot_row[t·k + s]]; weights == nullptr means all ones
// (that is permute's backward).
template <typename T>
void combine_forward(const T* rows, const T* weights, const int64_t* slot_row, int64_t n, int64_t k, int64_t d,
                     T* out);

// grad_y_perm[slot_row[t·k+s]] = weights[t, s] · grad_out[t];  grad_weights[t, s] = y_perm[...] · grad_out[t].
template <typename T>
void combine_backward(const T* grad_out, const T* y_perm, const T* weights, const int64_t* slot_row, int64_t n,
                      int64_t k, int64_t d, T* grad_y_perm, T* grad_weights);

}  // namespace mone::ops::cpu

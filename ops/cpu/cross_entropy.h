// CPU kernels for ops/cross_entropy.h. Shape letters: N rows (tokens), V vocab.
// Contiguous logits [N, V]; targets [N] as i64, already validated (each in [0, V) or ignore_index).
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// lse[r] = log Σ_v exp(logits[r, v]);  row_loss[r] = lse[r] - logits[r, t_r], or 0 when t_r is
// ignore_index. row_loss stays in double so the caller's sum over rows loses nothing.
template <typename T>
void cross_entropy_forward(const T* logits, const int64_t* targets, int64_t N, int64_t V, int64_t ignore_index,
                           T* lse, double* row_loss);

// grad_logits[r, v] = (exp(logits[r, v] - lse[r]) - [v = t_r]) · scale, and 0 for ignored rows.
template <typename T>
void cross_entropy_backward(const T* logits, const int64_t* targets, const T* lse, int64_t N, int64_t V,
                            int64_t ignore_index, double scale, T* grad_logits);

}  // namespace mone::ops::cpu

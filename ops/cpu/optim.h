// CPU kernels for ops/optim.h (sum_squares for the gradient norm is in cpu/reduce.h).
// Shape letters: n the element count of a parameter (and of its grad, m and v), contiguous.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// g[i] *= s.
template <typename T>
void scale_in_place(T* g, int64_t n, double s);

// One AdamW step on grad_scale · grad; bias1 = 1 - β1^step and bias2 = 1 - β2^step (see
// ops/optim.h). Computed in T, vectorised.
template <typename T>
void adamw_step(T* param, const T* grad, T* m, T* v, int64_t n, double lr, double beta1, double beta2, double eps,
                double weight_decay, double bias1, double bias2, double grad_scale);

}  // namespace mone::ops::cpu

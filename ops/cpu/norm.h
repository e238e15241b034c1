// CPU kernels for ops/norm.h (RMSNorm), after llm.c's layernorm_forward / layernorm_backward.
//
// Shape letters: N rows (all leading dimensions flattened), d the normalised width.
// Contiguous inputs. Sums run in double for both dtypes.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// y [N, d] = x · rstd · w,  rstd [N] = 1 / sqrt(mean(x²) + eps).
template <typename T>
void rmsnorm_forward(T* y, T* rstd, const T* x, const T* w, int64_t n, int64_t d, double eps);

// grad_x [N, d] and grad_w [d] are overwritten (=).
template <typename T>
void rmsnorm_backward(T* grad_x, T* grad_w, const T* grad_y, const T* x, const T* w, const T* rstd, int64_t n,
                      int64_t d);

}  // namespace mone::ops::cpu

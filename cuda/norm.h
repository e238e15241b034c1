// CUDA launchers for ops/norm.h (RMSNorm), over T = float or bf16: x, w, y, rstd and the
// gradients share T; sums run in double or f32 as noted, and round once on the store.
// The accumulation contract is the CPU's: grad_x and grad_w are overwritten (=).
// Shape letters: N rows (leading dimensions flattened), d the normalised width,
//   C = row_chunks(N) chunks of rows (cuda/reduce.h).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"

namespace mone::cuda {

// y [N, d] = x · rstd · w,  rstd [N] = 1 / sqrt(mean(x²) + eps).
template <typename T>
cudaError_t rmsnorm_forward(T* y, T* rstd, const T* x, const T* w, int64_t n, int64_t d, double eps,
                            cudaStream_t stream);

// grad_x [N, d] = rstd · (grad_y ⊙ w - xhat · mean_d(grad_y ⊙ w ⊙ xhat)) with xhat = x · rstd,
// grad_w [d] = Σ_rows grad_y ⊙ xhat (rows in chunks, in order). `partials` holds
// row_chunks(N) · d doubles.
template <typename T>
cudaError_t rmsnorm_backward(T* grad_x, T* grad_w, const T* grad_y, const T* x, const T* w, const T* rstd, int64_t n,
                             int64_t d, double* partials, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_NORM_LAUNCHERS(T)                                                                          \
  template cudaError_t rmsnorm_forward<T>(T*, T*, const T*, const T*, int64_t, int64_t, double, cudaStream_t); \
  template cudaError_t rmsnorm_backward<T>(T*, T*, const T*, const T*, const T*, const T*, int64_t, int64_t,   \
                                           double*, cudaStream_t);

// CUDA launchers for ops/softmax.h, T = float or bf16: one block per row, the row maximum
// subtracted before exponentiating, sums in double in a fixed tree.
// Shape letters: rows = the product of the leading dims, n the softmax (last) dim.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"

namespace mone::cuda {

// y = softmax(x) row by row, or log_softmax(x) when `log` is true.
template <typename T>
cudaError_t softmax_forward(const T* x, int64_t rows, int64_t n, bool log, T* y, cudaStream_t stream);
// grad_x (=): y ⊙ (grad_out - Σ grad_out ⊙ y), or for log: grad_out - exp(y) · Σ grad_out.
template <typename T>
cudaError_t softmax_backward(const T* grad_out, const T* y, int64_t rows, int64_t n, bool log, T* grad_x,
                             cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_SOFTMAX_LAUNCHERS(T)                                                             \
  template cudaError_t softmax_forward<T>(const T*, int64_t, int64_t, bool, T*, cudaStream_t);     \
  template cudaError_t softmax_backward<T>(const T*, const T*, int64_t, int64_t, bool, T*, cudaStream_t);

// CUDA launchers for ops/cross_entropy.h: the log-softmax fused with the cross-entropy over the
// vocabulary, T = float or bf16 logits. Targets are i64 on the device, validated by the op (each in
// [0, V) or ignore_index); the op counts C, the rows that are not ignored, on the host.
// Shape letters: N rows (tokens), V vocab.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"

namespace mone::cuda {

// lse[r] = log Σ_v exp(logits[r, v]);  row_loss[r] = lse[r] - logits[r, t_r] (0 when ignored), in
// double; loss[0] = Σ_r row_loss[r] / count (rows summed in a fixed tree; 0 when count = 0).
template <typename T>
cudaError_t cross_entropy_forward(const T* logits, const int64_t* targets, int64_t N, int64_t V, int64_t ignore_index,
                                  int64_t count, T* lse, double* row_loss, T* loss, cudaStream_t stream);

// grad_logits[r, v] (=) = (exp(logits[r, v] - lse[r]) - [v = t_r]) · grad_loss[0] / count, zero rows
// for ignored targets (all zero when count = 0). grad_loss is a device scalar (read in the kernel:
// no copy to the host).
template <typename T>
cudaError_t cross_entropy_backward(const T* logits, const int64_t* targets, const T* lse, int64_t N, int64_t V,
                                   int64_t ignore_index, const T* grad_loss, int64_t count, T* grad_logits,
                                   cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_CROSS_ENTROPY_LAUNCHERS(T)                                                                   \
  template cudaError_t cross_entropy_forward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, int64_t, T*, \
                                                double*, T*, cudaStream_t);                                    \
  template cudaError_t cross_entropy_backward<T>(const T*, const int64_t*, const T*, int64_t, int64_t, int64_t,   \
                                                 const T*, int64_t, T*, cudaStream_t);

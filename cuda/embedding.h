// CUDA launchers for ops/embedding.h, over T = float or bf16. Ids are i64 on the device, already
// validated in [0, V) by the op.
//
// The backward is deterministic without atomics: the (id, position) pairs are sorted as 64-bit
// keys id · 2^32 + position (a bitonic sort; the keys are distinct, so any correct sort gives the
// same order), and each run of equal ids sums its grad_out rows in position order, the CPU's
// order: f32 gradients come out bit for bit equal to the CPU's.
//
// Shape letters: V vocab (table rows), d width, n ids (tokens).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"

namespace mone::cuda {

// out[p, :] = weight[ids[p], :] for p < n; weight [V, d], out [n, d].
template <typename T>
cudaError_t embedding_forward(const T* weight, const int64_t* ids, int64_t n, int64_t d, T* out, cudaStream_t stream);

// The sort keys embedding_backward needs: n rounded up to a power of two (n < 2^32, V < 2^31).
int64_t embedding_backward_keys(int64_t n);

// grad_weight [V, d] (=): zero, then grad_weight[v, :] = Σ_{p : ids[p] = v} grad_out[p, :] in
// position order. `keys` is scratch of embedding_backward_keys(n) uint64 values.
template <typename T>
cudaError_t embedding_backward(const T* grad_out, const int64_t* ids, int64_t n, int64_t V, int64_t d,
                               uint64_t* keys, T* grad_weight, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_EMBEDDING_LAUNCHERS(T)                                                                    \
  template cudaError_t embedding_forward<T>(const T*, const int64_t*, int64_t, int64_t, T*, cudaStream_t); \
  template cudaError_t embedding_backward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, uint64_t*, T*, \
                                             cudaStream_t);

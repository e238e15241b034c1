// CPU kernels for ops/embedding.h. Shape letters: V vocab, d width, n ids (tokens).
// Contiguous inputs; ids already validated in [0, V).
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// out[p, :] = weight[ids[p], :] for p < n; weight [V, d], out [n, d].
template <typename T>
void embedding_forward(const T* weight, const int64_t* ids, int64_t n, int64_t d, T* out);

// grad_weight [V, d] = 0, then grad_weight[ids[p], :] += grad_out[p, :] for p = 0, 1, ..., n-1.
// Threads own disjoint column blocks of d, so each element is summed by one thread in order p.
template <typename T>
void embedding_backward(const T* grad_out, const int64_t* ids, int64_t n, int64_t V, int64_t d, T* grad_weight);

}  // namespace mone::ops::cpu

// CPU kernels for ops/topk.h. Contiguous inputs.
// Shape letters: rows = the product of the leading dims, n the searched (last) dim, k kept.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// values[r, :k], indices[r, :k] = the k largest of x[r, :] in descending order, ties by lower index.
template <typename T>
void topk_forward(const T* x, int64_t rows, int64_t n, int64_t k, T* values, int64_t* indices);

// grad_x [rows, n] = 0, then grad_x[r, indices[r, i]] += grad_values[r, i] (indices validated).
template <typename T>
void topk_backward(const T* grad_values, const int64_t* indices, int64_t rows, int64_t n, int64_t k, T* grad_x);

}  // namespace mone::ops::cpu

// CPU kernels for ops/softmax.h. Contiguous inputs; one row per loop iteration.
// Shape letters: rows = the product of the leading dims, n the softmax (last) dim.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// y = softmax(x) row by row, or log_softmax(x) when `log` is true.
template <typename T>
void softmax_forward(const T* x, int64_t rows, int64_t n, bool log, T* y);

// The matching backward from the forward's output y (see ops/softmax.h for the formulas).
template <typename T>
void softmax_backward(const T* grad_out, const T* y, int64_t rows, int64_t n, bool log, T* grad_x);

}  // namespace mone::ops::cpu

// CPU kernels for ops/grouped_matmul.h: one BLAS GEMM per non-empty expert segment.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept;
//   R routed rows, I in features, O out features.
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// y [R, O]; w[e] points at expert e's [O, I] weight.
template <typename T>
void grouped_matmul_forward(const T* x, const T* const* w, const int64_t* offsets, int64_t e, int64_t in,
                            int64_t out, T* y);

// grad_x [R, I] (=), grad_w[e] [O, I] (=, zero for an empty segment).
template <typename T>
void grouped_matmul_backward(const T* grad_y, const T* x, const T* const* w, const int64_t* offsets, int64_t e,
                             int64_t in, int64_t out, T* grad_x, T* const* grad_w);

}  // namespace mone::ops::cpu

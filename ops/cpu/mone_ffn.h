// CPU kernels for ops/mone_ffn.h: every expert's segment of rows in one call. Contiguous
// row-major inputs.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R rows grouped by expert, T_e of them for expert e.
#pragma once

#include <cstdint>

#include "ops/op_types.h"

namespace mone::ops::cpu {

struct MoneDims {
  int64_t rows;     // R
  int64_t d;        // model width
  int64_t D;        // expert width
  int64_t k_n;      // neurons kept
  int64_t experts;  // E
};

// offsets [E + 1] (nullptr: one expert over all R rows); w_gate, w_up [E, D, d], w_down [E, d, D].
// Writes y [R, d], a [R, D], g [R, D], idx [R, K_N], u [R, K_N], h [R, K_N].
template <typename T>
void mone_ffn_forward(const T* x, const int64_t* offsets, const T* w_gate, const T* w_up, const T* w_down,
                      MoneDims dims, Activation act, MoneStrategy strategy, T* y, T* a, T* g, int32_t* idx, T* u,
                      T* h);

// Writes (=) grad_x [R, d] and grad_w_gate, grad_w_up [E, D, d], grad_w_down [E, d, D];
// grad_y and grad_g_extra may be nullptr (no gradient from that path).
template <typename T>
void mone_ffn_backward(const T* grad_y, const T* grad_g_extra, const T* x, const int64_t* offsets, const T* w_gate,
                       const T* w_up, const T* w_down, const T* a, const T* g, const int32_t* idx, const T* u,
                       const T* h, MoneDims dims, TopkBackward estimator, MoneStrategy strategy, Activation act,
                       T* grad_x, T* grad_w_gate, T* grad_w_up, T* grad_w_down);

}  // namespace mone::ops::cpu

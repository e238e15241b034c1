// CPU kernels for ops/mone_ffn.h (one expert's segment). Contiguous row-major inputs.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; T tokens of this expert.
#pragma once

#include <cstdint>

#include "ops/op_types.h"

namespace mone::ops::cpu {

struct MoneDims {
  int64_t tokens;   // T
  int64_t d;        // model width
  int64_t D;        // expert width
  int64_t k_n;      // neurons kept
};

// Writes y [T, d], a [T, D], g [T, D], idx [T, K_N], u [T, K_N], h [T, K_N].
template <typename T>
void mone_ffn_forward(const T* x, const T* w_gate, const T* w_up, const T* w_down, MoneDims dims, Activation act,
                      MoneStrategy strategy, T* y, T* a, T* g, int32_t* idx, T* u, T* h);

// Writes (=) grad_x [T, d], grad_w_gate [D, d], grad_w_up [D, d], grad_w_down [d, D];
// grad_g_extra may be nullptr.
template <typename T>
void mone_ffn_backward(const T* grad_y, const T* grad_g_extra, const T* x, const T* w_gate, const T* w_up,
                       const T* w_down, const T* a, const T* g, const int32_t* idx, const T* u, const T* h,
                       MoneDims dims, TopkBackward estimator, MoneStrategy strategy, Activation act, T* grad_x,
                       T* grad_w_gate, T* grad_w_up, T* grad_w_down);

}  // namespace mone::ops::cpu

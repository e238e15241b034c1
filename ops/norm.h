// RMSNorm (MONE.md): y = x · rsqrt(mean(x²) + eps) · w over the last dimension.
//
// Shape letters: d the normalised width (hidden size); "..." any leading dimensions (B, T or N).
// The forward returns rstd = rsqrt(mean(x²) + eps) [...], which the backward needs (llm.c style).
// Backward functions return fresh gradients (=), never accumulate into existing ones.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

struct RmsNormForward {
  Tensor y;     // [..., d]
  Tensor rstd;  // [...]
};

// x [..., d], w [d]; eps > 0.
StatusOr<RmsNormForward> rmsnorm(const Tensor& x, const Tensor& w, double eps);

struct RmsNormGrads {
  Tensor grad_x;  // [..., d]
  Tensor grad_w;  // [d]
};

// With xhat = x · rstd:  grad_w = Σ_rows grad_y ⊙ xhat,
// grad_x = rstd · (grad_y ⊙ w - xhat · mean_d(grad_y ⊙ w ⊙ xhat)).
StatusOr<RmsNormGrads> rmsnorm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& w, const Tensor& rstd);

}  // namespace mone::ops

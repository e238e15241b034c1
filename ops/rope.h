// Rotary position embedding, rotate-half form (as in Llama / Hugging Face).
//
// Shape letters: B batch, T sequence, H heads (query or kv heads), hd head dim (must be even).
// Row t of x sits at position p = position_offset + t (position_offset > 0 when decoding after a
// KV cache). Each pair (i, i + hd/2), i < hd/2, is rotated by the angle p · theta^(-2i/hd):
//   y_i = x_i cos - x_{i+hd/2} sin,   y_{i+hd/2} = x_{i+hd/2} cos + x_i sin.
// Angles are computed in double. The backward is the inverse rotation (a rotation's transpose).
// Backward functions return fresh gradients (=), never accumulate into existing ones.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

// x [B, T, H, hd] -> y [B, T, H, hd]; position_offset >= 0, theta > 0.
StatusOr<Tensor> rope(const Tensor& x, int64_t position_offset, double theta);

// grad_x [B, T, H, hd] = grad_y rotated by the negative angles. Since rope is a rotation, this is
// also its inverse: rope_backward(rope(x, p, θ), p, θ) == x.
StatusOr<Tensor> rope_backward(const Tensor& grad_y, int64_t position_offset, double theta);

}  // namespace mone::ops

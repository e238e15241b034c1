// Elementwise arithmetic: add, sub, mul, scale, with broadcasting over leading dimensions, and
// clamp (OLMoE's clip_qkv).
//
// Shape letters: none; any shapes. Broadcasting rule (the only one mone needs): one operand's
// shape must equal the other's, or be a suffix of it (b: [d] against a: [N, d]). The result has
// the longer shape. Backward functions return fresh gradients (=), reduced back to each input's
// shape by summing over the broadcast leading dimensions.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

StatusOr<Tensor> add(const Tensor& a, const Tensor& b);
StatusOr<Tensor> sub(const Tensor& a, const Tensor& b);
StatusOr<Tensor> mul(const Tensor& a, const Tensor& b);
StatusOr<Tensor> scale(const Tensor& a, double s);
// y = min(max(x, lo), hi), lo <= hi (NaN stays NaN).
StatusOr<Tensor> clamp(const Tensor& x, double lo, double hi);
// dst += src in place (same shape, dtype and device; dst contiguous); bumps dst's version. Not
// differentiable: how autograd accumulates a gradient it owns, and (in i64) how training sums the
// experts' and neurons' load over the steps between two logs without reading the device.
Status add_into(const Tensor& dst, const Tensor& src);

struct BinaryGrads {
  Tensor grad_a;
  Tensor grad_b;
};

// out = a + b:  grad_a = sum_to(grad_out, a),  grad_b = sum_to(grad_out, b).
StatusOr<BinaryGrads> add_backward(const Tensor& grad_out, const Shape& a_shape, const Shape& b_shape);
// out = a - b:  grad_a = sum_to(grad_out, a),  grad_b = -sum_to(grad_out, b).
StatusOr<BinaryGrads> sub_backward(const Tensor& grad_out, const Shape& a_shape, const Shape& b_shape);
// out = a * b:  grad_a = sum_to(grad_out * b, a),  grad_b = sum_to(grad_out * a, b).
StatusOr<BinaryGrads> mul_backward(const Tensor& grad_out, const Tensor& a, const Tensor& b);
// out = s * a:  grad_a = s * grad_out.
StatusOr<Tensor> scale_backward(const Tensor& grad_out, double s);
// y = clamp(x, lo, hi):  grad_x (=) = grad_out where lo <= x <= hi, else 0 (as PyTorch: the
// bounds themselves pass the gradient).
StatusOr<Tensor> clamp_backward(const Tensor& grad_out, const Tensor& x, double lo, double hi);

// Sums `t` over its leading dimensions down to `shape` (a suffix of t's shape).
StatusOr<Tensor> sum_to_shape(const Tensor& t, const Shape& shape);

}  // namespace mone::ops

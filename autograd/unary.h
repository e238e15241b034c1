// Recording helper for unary ops whose backward is backward(grad_out, saved), with one saved
// tensor: the input x (silu) or the output y (sigmoid, softmax, log_softmax).
// Shape letters: none; saved and grad_out have the op's own shapes.
#pragma once

#include "autograd/tape.h"

namespace mone::autograd {

using UnaryBackward = StatusOr<Tensor> (*)(const Tensor& grad_out, const Tensor& saved);

// Wraps y = op(x) in a Variable and records it on the tape with `saved` and `backward`.
Variable record_unary(const char* op, const Variable& x, Tensor y, Tensor saved, UnaryBackward backward);

}  // namespace mone::autograd

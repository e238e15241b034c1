// Matrix multiplication (GEMM): plain, transposed, batched, and the linear-layer case.
//
// Shape letters: M rows of the output, N its columns, K the contracted size, Bt batch,
// "..." any leading dimensions (e.g. B, T of activations). Three forms:
//   2-D:     a [M, K] (or [K, M] when trans_a), b [K, N] (or [N, K] when trans_b) -> [M, N]
//   batched: a [Bt, M, K], b [Bt, K, N] (same transposes per matrix)          -> [Bt, M, N]
//   rows:    a [..., K] (no trans_a), b 2-D                                   -> [..., N]
// The linear layer y = x · Wᵀ with W [out, in] is matmul(x, W, false, true).
// Inputs may be any views; row-major views and plain transposes go to BLAS in place, others are
// copied by contiguous(). Outputs are fresh contiguous tensors.
// Backward functions return fresh gradients (=), never accumulate into existing ones.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

StatusOr<Tensor> matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

struct MatmulGrads {
  Tensor grad_a;  // a's shape
  Tensor grad_b;  // b's shape
};

// c = op(a) · op(b):  grad op(a) = grad_out · op(b)ᵀ,  grad op(b) = op(a)ᵀ · grad_out,
// each transposed back when the operand was used transposed. grad_out has c's shape.
StatusOr<MatmulGrads> matmul_backward(const Tensor& grad_out, const Tensor& a, const Tensor& b, bool trans_a = false,
                                      bool trans_b = false);

}  // namespace mone::ops

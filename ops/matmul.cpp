// matmul forward and backward: checks, then BLAS (cuBLAS on CUDA: cuda/blas.h). Shape letters (see ops/matmul.h): M, N output
// rows and columns, K contracted size, Bt batch.
#include "ops/matmul.h"

#include <climits>
#include <string>

#include "cuda/blas.h"
#include "cuda/runtime.h"
#include "ops/common.h"
#include "ops/cpu/matmul.h"

namespace mone::ops {

namespace {

// The sizes of one call, after the form (2-D, batched, rows) is worked out from the shapes.
struct MatmulDims {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool rows = false;  // a [..., K] flattened to [M, K] against a 2-D b
  Shape out_shape;
};

StatusOr<MatmulDims> matmul_dims(const char* op, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  MONE_RETURN_IF_ERROR(check_same(op, {{"a", &a}, {"b", &b}}));
  MONE_RETURN_IF_ERROR(check_float(op, a, "a"));
  const auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", what, " (trans_a ", trans_a ? "true" : "false",
                                                   ", trans_b ", trans_b ? "true" : "false",
                                                   "): ", describe_args({{"a", &a}, {"b", &b}})));
  };
  MatmulDims d;
  if (a.dim() == 3 && b.dim() == 3) {
    if (a.size(0) != b.size(0)) return error("batch sizes differ");
    d.batch = a.size(0);
  } else if (b.dim() == 2 && a.dim() >= 2) {
    d.rows = a.dim() > 2;
    if (d.rows && trans_a) return error("trans_a needs a 2-D a when b is 2-D");
  } else {
    return error("expected a and b both 2-D, both 3-D (batched), or a [..., K] with a 2-D b");
  }
  const int64_t a_rows = d.rows ? shape_numel(Shape(a.shape().begin(), a.shape().end() - 1)) : a.size(-2);
  d.m = trans_a ? a.size(-1) : a_rows;
  const int64_t k_a = trans_a ? a_rows : a.size(-1);
  d.k = trans_b ? b.size(-1) : b.size(-2);
  d.n = trans_b ? b.size(-2) : b.size(-1);
  if (k_a != d.k) return error(absl::StrCat("inner sizes differ, ", k_a, " vs ", d.k));
  if (d.m > INT_MAX || d.n > INT_MAX || d.k > INT_MAX) return error("a size exceeds BLAS's 32-bit int");
  if (d.rows) {
    d.out_shape.assign(a.shape().begin(), a.shape().end() - 1);
    d.out_shape.push_back(d.n);
  } else {
    if (a.dim() == 3) d.out_shape.push_back(d.batch);
    d.out_shape.push_back(d.m);
    d.out_shape.push_back(d.n);
  }
  return d;
}

// How BLAS reads one operand: row-major rows `ld` apart (a row-major view, or a plain transpose
// read as the transposed matrix); anything else is copied to a contiguous tensor first.
struct BlasOperand {
  Tensor t;
  bool trans;
  int64_t ld;
  int64_t batch_stride;
};

BlasOperand blas_operand(const Tensor& x, bool trans) {
  const int64_t nd = x.dim(), r = x.size(-2), c = x.size(-1);
  const int64_t sr = x.strides()[nd - 2], sc = x.strides()[nd - 1];
  const int64_t bs = nd == 3 ? x.strides()[0] : 0;
  if ((c == 1 || sc == 1) && (r == 1 || sr >= c)) return {x, trans, r == 1 ? std::max<int64_t>(c, 1) : sr, bs};
  if ((r == 1 || sr == 1) && (c == 1 || sc >= r)) return {x, !trans, c == 1 ? std::max<int64_t>(r, 1) : sc, bs};
  Tensor y = x.contiguous();
  return {y, trans, std::max<int64_t>(c, 1), nd == 3 ? r * c : 0};
}

}  // namespace

StatusOr<Tensor> matmul(const Tensor& a_in, const Tensor& b_in, bool trans_a, bool trans_b) {
  MONE_ASSIGN_OR_RETURN(MatmulDims d, matmul_dims("matmul", a_in, b_in, trans_a, trans_b));
  Tensor a2 = a_in;
  if (d.rows) {
    MONE_ASSIGN_OR_RETURN(a2, a_in.reshape({d.m, d.k}));  // copies only when a is not contiguous
  }
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(d.out_shape, a_in.dtype(), a_in.device()));
  if (out.numel() == 0) return out;
  const BlasOperand a = blas_operand(a2, trans_a), b = blas_operand(b_in, trans_b);
  switch (a_in.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(a_in.dtype(), "matmul", {
        cpu::gemm_batched<scalar_t>(d.batch, a.trans, b.trans, d.m, d.n, d.k, scalar_t(1), a.t.data<scalar_t>(), a.ld,
                                    a.batch_stride, b.t.data<scalar_t>(), b.ld, b.batch_stride, scalar_t(0),
                                    out.data<scalar_t>(), d.n, d.m * d.n);
      });
      return out;
    case DeviceType::kCUDA:
      MONE_RETURN_IF_ERROR(cuda::gemm_batched(a_in.dtype(), d.batch, a.trans, b.trans, d.m, d.n, d.k, 1.f,
                                              a.t.raw_data(), a.ld, a.batch_stride, b.t.raw_data(), b.ld,
                                              b.batch_stride, 0.f, out.raw_data(), d.n, d.m * d.n,
                                              a_in.device().index, cuda::current_stream(), "matmul"));
      return out;
  }
  return out;
}

StatusOr<MatmulGrads> matmul_backward(const Tensor& grad_out, const Tensor& a_in, const Tensor& b, bool trans_a,
                                      bool trans_b) {
  MONE_ASSIGN_OR_RETURN(MatmulDims d, matmul_dims("matmul_backward", a_in, b, trans_a, trans_b));
  MONE_RETURN_IF_ERROR(check_same("matmul_backward", {{"grad_out", &grad_out}, {"a", &a_in}}));
  MONE_RETURN_IF_ERROR(check_shape("matmul_backward", grad_out, d.out_shape, "grad_out"));
  // The rows form is the 2-D form on a [M, K] and grad_out [M, N].
  Tensor a = a_in, g = grad_out;
  if (d.rows) {
    MONE_ASSIGN_OR_RETURN(a, a_in.reshape({d.m, d.k}));
    MONE_ASSIGN_OR_RETURN(g, grad_out.reshape({d.m, d.n}));
  }
  MatmulGrads grads;
  // grad op(a) = g · op(b)ᵀ [M, K]; a itself is op(a)ᵀ when trans_a, so grad a = op(b) · gᵀ.
  if (!trans_a) {
    MONE_ASSIGN_OR_RETURN(grads.grad_a, matmul(g, b, false, !trans_b));
  } else {
    MONE_ASSIGN_OR_RETURN(grads.grad_a, matmul(b, g, trans_b, true));
  }
  // grad op(b) = op(a)ᵀ · g [K, N]; b itself is op(b)ᵀ when trans_b, so grad b = gᵀ · op(a).
  if (!trans_b) {
    MONE_ASSIGN_OR_RETURN(grads.grad_b, matmul(a, g, !trans_a, false));
  } else {
    MONE_ASSIGN_OR_RETURN(grads.grad_b, matmul(g, a, true, trans_a));
  }
  if (d.rows) {
    MONE_ASSIGN_OR_RETURN(grads.grad_a, grads.grad_a.reshape(a_in.shape()));
  }
  return grads;
}

}  // namespace mone::ops

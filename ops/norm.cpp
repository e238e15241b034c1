// RMSNorm forward and backward: checks, then the CPU kernels or cuda/norm.h. Shape letters: N rows,
// d width.
#include "ops/norm.h"

#include <cmath>

#include "cuda/norm.h"
#include "cuda/reduce.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/cpu/norm.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// x [..., d] with d >= 1 and w [d]; returns the shape of rstd ([...]).
StatusOr<Shape> check_rmsnorm_args(const char* op, const Tensor& x, const Tensor& w) {
  MONE_RETURN_IF_ERROR(check_same(op, {{"x", &x}, {"w", &w}}));
  MONE_RETURN_IF_ERROR(check_float(op, x, "x"));
  if (x.dim() < 1 || w.dim() != 1 || w.size(0) != x.size(-1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": expected x [..., d] and w [d]: ", describe_args({{"x", &x}, {"w", &w}})));
  }
  return Shape(x.shape().begin(), x.shape().end() - 1);
}

}  // namespace

StatusOr<RmsNormForward> rmsnorm(const Tensor& x_in, const Tensor& w_in, double eps) {
  MONE_ASSIGN_OR_RETURN(Shape rows_shape, check_rmsnorm_args("rmsnorm", x_in, w_in));
  if (!(eps > 0.0) || !std::isfinite(eps)) {
    return absl::InvalidArgumentError(absl::StrCat("rmsnorm: eps must be positive and finite, got ", eps));
  }
  const Tensor x = x_in.contiguous(), w = w_in.contiguous();
  const int64_t d = x.size(-1), n = shape_numel(rows_shape);
  RmsNormForward f;
  MONE_ASSIGN_OR_RETURN(f.y, new_tensor(x.shape(), x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(f.rstd, new_tensor(rows_shape, x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), "rmsnorm", {
        cpu::rmsnorm_forward<scalar_t>(f.y.data<scalar_t>(), f.rstd.data<scalar_t>(), x.data<scalar_t>(),
                                       w.data<scalar_t>(), n, d, eps);
      });
      return f;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), "rmsnorm", {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::rmsnorm_forward<scalar_t>(f.y.data<scalar_t>(), f.rstd.data<scalar_t>(), x.data<scalar_t>(),
                                            w.data<scalar_t>(), n, d, eps, cuda::current_stream()),
            "rmsnorm"));
      });
      return f;
  }
  return f;
}

StatusOr<RmsNormGrads> rmsnorm_backward(const Tensor& grad_y_in, const Tensor& x_in, const Tensor& w_in,
                                        const Tensor& rstd_in) {
  const char* op = "rmsnorm_backward";
  MONE_ASSIGN_OR_RETURN(Shape rows_shape, check_rmsnorm_args(op, x_in, w_in));
  MONE_RETURN_IF_ERROR(check_same(op, {{"grad_y", &grad_y_in}, {"x", &x_in}, {"rstd", &rstd_in}}));
  MONE_RETURN_IF_ERROR(check_shape(op, grad_y_in, x_in.shape(), "grad_y"));
  MONE_RETURN_IF_ERROR(check_shape(op, rstd_in, rows_shape, "rstd"));
  const Tensor grad_y = grad_y_in.contiguous(), x = x_in.contiguous(), w = w_in.contiguous(),
               rstd = rstd_in.contiguous();
  const int64_t d = x.size(-1), n = shape_numel(rows_shape);
  RmsNormGrads g;
  MONE_ASSIGN_OR_RETURN(g.grad_x, new_tensor(x.shape(), x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(g.grad_w, new_tensor(w.shape(), w.dtype(), w.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::rmsnorm_backward<scalar_t>(g.grad_x.data<scalar_t>(), g.grad_w.data<scalar_t>(),
                                        grad_y.data<scalar_t>(), x.data<scalar_t>(), w.data<scalar_t>(),
                                        rstd.data<scalar_t>(), n, d);
      });
      return g;
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(Tensor partials, new_tensor({cuda::row_chunks(n) * d}, DType::kF64, x.device()));
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::rmsnorm_backward<scalar_t>(g.grad_x.data<scalar_t>(), g.grad_w.data<scalar_t>(),
                                             grad_y.data<scalar_t>(), x.data<scalar_t>(), w.data<scalar_t>(),
                                             rstd.data<scalar_t>(), n, d, partials.data<double>(),
                                             cuda::current_stream()),
            op));
      });
      return g;
    }
  }
  return g;
}

}  // namespace mone::ops

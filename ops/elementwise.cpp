#include "ops/elementwise.h"

#include "cuda/elementwise.h"
#include "cuda/reduce.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/cpu/elementwise.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

bool is_suffix(const Shape& small, const Shape& big) {
  if (small.size() > big.size()) return false;
  return std::equal(small.begin(), small.end(), big.end() - small.size());
}

// out = a (op) b, out already allocated with the broadcast shape (it may be a itself).
Status binary_into(const char* op, BinaryOp kind, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (out.numel() == 0) return absl::OkStatus();
  switch (a.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(a.dtype(), op, {
        cpu::binary_forward<scalar_t>(kind, a.data<scalar_t>(), a.numel(), b.data<scalar_t>(), b.numel(),
                                      out.data<scalar_t>());
      });
      return absl::OkStatus();
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(a.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::binary_forward<scalar_t>(kind, a.data<scalar_t>(), a.numel(), b.data<scalar_t>(), b.numel(),
                                           out.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

StatusOr<Tensor> binary(const char* op, BinaryOp kind, const Tensor& a_in, const Tensor& b_in) {
  MONE_RETURN_IF_ERROR(check_same(op, {{"a", &a_in}, {"b", &b_in}}));
  MONE_RETURN_IF_ERROR(check_float(op, a_in, "a"));
  const bool a_big = a_in.dim() >= b_in.dim();
  const Shape& out_shape = a_big ? a_in.shape() : b_in.shape();
  if (!is_suffix(a_big ? b_in.shape() : a_in.shape(), out_shape)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": shapes do not broadcast (one must be a suffix of the other): ",
                                                   describe_args({{"a", &a_in}, {"b", &b_in}})));
  }
  const Tensor a = a_in.contiguous(), b = b_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(out_shape, a.dtype(), a.device()));
  MONE_RETURN_IF_ERROR(binary_into(op, kind, a, b, out));
  return out;
}

}  // namespace

StatusOr<Tensor> add(const Tensor& a, const Tensor& b) { return binary("add", BinaryOp::kAdd, a, b); }
StatusOr<Tensor> sub(const Tensor& a, const Tensor& b) { return binary("sub", BinaryOp::kSub, a, b); }
StatusOr<Tensor> mul(const Tensor& a, const Tensor& b) { return binary("mul", BinaryOp::kMul, a, b); }

// dst += src over i64 counts.
Status add_counts_into(const char* op, const Tensor& dst, const Tensor& src) {
  switch (dst.device().type) {
    case DeviceType::kCPU: {
      int64_t* d = dst.data<int64_t>();
      const int64_t* s = src.data<int64_t>();
      for (int64_t i = 0; i < dst.numel(); ++i) d[i] += s[i];
      return absl::OkStatus();
    }
    case DeviceType::kCUDA:
      return cuda::to_status(
          cuda::add_counts(dst.data<int64_t>(), src.data<int64_t>(), dst.numel(), cuda::current_stream()), op);
  }
  return absl::OkStatus();
}

Status add_into(const Tensor& dst, const Tensor& src_in) {
  constexpr const char* op = "add_into";
  if (dst.defined() && dst.dtype() == DType::kI64) {
    MONE_RETURN_IF_ERROR(check_same(op, {{"dst", &dst}, {"src", &src_in}}));
    MONE_RETURN_IF_ERROR(check_shape(op, src_in, dst.shape(), "src"));
  } else {
    MONE_RETURN_IF_ERROR(check_float_same_shape(op, {{"dst", &dst}, {"src", &src_in}}));
  }
  if (!dst.is_contiguous()) return absl::InvalidArgumentError(absl::StrCat(op, ": dst ", dst.describe(), " is not contiguous"));
  const Tensor src = src_in.contiguous();
  if (dst.dtype() == DType::kI64) {
    MONE_RETURN_IF_ERROR(add_counts_into(op, dst, src));
  } else {
    MONE_RETURN_IF_ERROR(binary_into(op, BinaryOp::kAdd, dst, src, dst));
  }
  dst.bump_version();
  return absl::OkStatus();
}

StatusOr<Tensor> scale(const Tensor& a_in, double s) {
  MONE_RETURN_IF_ERROR(check_float("scale", a_in, "a"));
  const Tensor a = a_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(a.shape(), a.dtype(), a.device()));
  switch (a.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(a.dtype(), "scale", {
        cpu::scale<scalar_t>(a.data<scalar_t>(), a.numel(), static_cast<scalar_t>(s), out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(a.dtype(), "scale", {
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::scale<scalar_t>(a.data<scalar_t>(), a.numel(), static_cast<float>(s),
                                                                   out.data<scalar_t>(), cuda::current_stream()),
                                             "scale"));
      });
      return out;
  }
  return out;
}

namespace {
Status check_clamp_bounds(const char* op, double lo, double hi) {
  if (lo <= hi) return absl::OkStatus();  // also false for a NaN bound
  return absl::InvalidArgumentError(absl::StrCat(op, ": bounds [", lo, ", ", hi, "] must satisfy lo <= hi"));
}
}  // namespace

StatusOr<Tensor> clamp(const Tensor& x_in, double lo, double hi) {
  constexpr const char* op = "clamp";
  MONE_RETURN_IF_ERROR(check_float(op, x_in, "x"));
  MONE_RETURN_IF_ERROR(check_clamp_bounds(op, lo, hi));
  const Tensor x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(x.shape(), x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::clamp<scalar_t>(x.data<scalar_t>(), x.numel(), static_cast<scalar_t>(lo), static_cast<scalar_t>(hi),
                             out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::clamp<scalar_t>(x.data<scalar_t>(), x.numel(), static_cast<float>(lo),
                                                                   static_cast<float>(hi), out.data<scalar_t>(),
                                                                   cuda::current_stream()),
                                             op));
      });
      return out;
  }
  return out;
}

StatusOr<Tensor> clamp_backward(const Tensor& grad_out_in, const Tensor& x_in, double lo, double hi) {
  constexpr const char* op = "clamp_backward";
  MONE_RETURN_IF_ERROR(check_float_same_shape(op, {{"grad_out", &grad_out_in}, {"x", &x_in}}));
  MONE_RETURN_IF_ERROR(check_clamp_bounds(op, lo, hi));
  const Tensor g = grad_out_in.contiguous(), x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor grad_x, new_tensor(x.shape(), x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::clamp_backward<scalar_t>(g.data<scalar_t>(), x.data<scalar_t>(), x.numel(), static_cast<scalar_t>(lo),
                                      static_cast<scalar_t>(hi), grad_x.data<scalar_t>());
      });
      return grad_x;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::clamp_backward<scalar_t>(g.data<scalar_t>(), x.data<scalar_t>(), x.numel(), static_cast<float>(lo),
                                           static_cast<float>(hi), grad_x.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return grad_x;
  }
  return grad_x;
}

StatusOr<Tensor> sum_to_shape(const Tensor& t_in, const Shape& shape) {
  MONE_RETURN_IF_ERROR(check_float("sum_to_shape", t_in, "t"));
  if (t_in.shape() == shape) return t_in;
  if (!is_suffix(shape, t_in.shape())) {
    return absl::InvalidArgumentError(
        absl::StrCat("sum_to_shape: ", shape_string(shape), " is not a suffix of ", t_in.describe()));
  }
  const Tensor t = t_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(shape, t.dtype(), t.device()));
  switch (t.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(t.dtype(), "sum_to_shape", {
        cpu::sum_rows<scalar_t>(t.data<scalar_t>(), t.numel(), out.numel(), out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA: {
      const int64_t m = out.numel(), rows = m == 0 ? 0 : t.numel() / m;
      MONE_ASSIGN_OR_RETURN(Tensor partials, new_tensor({cuda::row_chunks(rows) * m}, DType::kF64, t.device()));
      MONE_DISPATCH_CUDA_FLOAT(t.dtype(), "sum_to_shape", {
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::sum_rows<scalar_t>(t.data<scalar_t>(), rows, m,
                                                                      partials.data<double>(), out.data<scalar_t>(),
                                                                      cuda::current_stream()),
                                             "sum_to_shape"));
      });
      return out;
    }
  }
  return out;
}

StatusOr<BinaryGrads> add_backward(const Tensor& grad_out, const Shape& a_shape, const Shape& b_shape) {
  BinaryGrads g;
  MONE_ASSIGN_OR_RETURN(g.grad_a, sum_to_shape(grad_out, a_shape));
  MONE_ASSIGN_OR_RETURN(g.grad_b, sum_to_shape(grad_out, b_shape));
  return g;
}

StatusOr<BinaryGrads> sub_backward(const Tensor& grad_out, const Shape& a_shape, const Shape& b_shape) {
  MONE_ASSIGN_OR_RETURN(BinaryGrads g, add_backward(grad_out, a_shape, b_shape));
  MONE_ASSIGN_OR_RETURN(g.grad_b, scale(g.grad_b, -1.0));
  return g;
}

StatusOr<BinaryGrads> mul_backward(const Tensor& grad_out, const Tensor& a, const Tensor& b) {
  BinaryGrads g;
  MONE_ASSIGN_OR_RETURN(Tensor ga, mul(grad_out, b));
  MONE_ASSIGN_OR_RETURN(Tensor gb, mul(grad_out, a));
  MONE_ASSIGN_OR_RETURN(g.grad_a, sum_to_shape(ga, a.shape()));
  MONE_ASSIGN_OR_RETURN(g.grad_b, sum_to_shape(gb, b.shape()));
  return g;
}

StatusOr<Tensor> scale_backward(const Tensor& grad_out, double s) { return scale(grad_out, s); }

}  // namespace mone::ops

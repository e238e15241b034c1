#include "ops/reduce.h"

#include "cuda/reduce.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/reduce.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// sum (divide_by_count = false) or mean (true) of all elements, as a 0-d tensor.
StatusOr<Tensor> reduce_all(const char* op, const Tensor& x_in, bool divide_by_count) {
  MONE_RETURN_IF_ERROR(check_float(op, x_in, "x"));
  if (divide_by_count && x_in.numel() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": x is ", x_in.describe(), ", which has no elements"));
  }
  const Tensor x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor({}, x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        const double s = cpu::sum_all<scalar_t>(x.data<scalar_t>(), x.numel());
        *out.data<scalar_t>() = static_cast<scalar_t>(divide_by_count ? s / x.numel() : s);
      });
      return out;
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(Tensor partials, new_tensor({cuda::kSumPartials}, DType::kF64, x.device()));
      const double scale = divide_by_count ? 1.0 / static_cast<double>(x.numel()) : 1.0;
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::sum_all<scalar_t>(x.data<scalar_t>(), x.numel(), scale,
                                                                     partials.data<double>(), out.data<scalar_t>(),
                                                                     cuda::current_stream()),
                                             op));
      });
      return out;
    }
  }
  return out;
}

// grad_x [rows, n] = s * grad_out [rows] spread over the last dimension, shaped as x_shape.
StatusOr<Tensor> spread_backward(const char* op, const Tensor& grad_out_in, const Shape& x_shape, int64_t n,
                                 double s) {
  const Tensor g = grad_out_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor grad_x, new_tensor(x_shape, g.dtype(), g.device()));
  if (grad_x.numel() == 0) return grad_x;
  switch (g.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(g.dtype(), op, {
        cpu::broadcast_last<scalar_t>(g.data<scalar_t>(), g.numel(), n, static_cast<scalar_t>(s),
                                      grad_x.data<scalar_t>());
      });
      return grad_x;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(g.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::broadcast_last<scalar_t>(g.data<scalar_t>(), g.numel(), n,
                                                                            static_cast<float>(s),
                                                                            grad_x.data<scalar_t>(),
                                                                            cuda::current_stream()),
                                             op));
      });
      return grad_x;
  }
  return grad_x;
}

}  // namespace

StatusOr<Tensor> sum(const Tensor& x) { return reduce_all("sum", x, false); }
StatusOr<Tensor> mean(const Tensor& x) { return reduce_all("mean", x, true); }

StatusOr<Tensor> sum_last(const Tensor& x_in) {
  MONE_RETURN_IF_ERROR(check_float("sum_last", x_in, "x"));
  MONE_RETURN_IF_ERROR(check_min_dim("sum_last", x_in, 1, "x"));
  const Tensor x = x_in.contiguous();
  const Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(out_shape, x.dtype(), x.device()));
  if (out.numel() == 0) return out;
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), "sum_last", {
        cpu::sum_last<scalar_t>(x.data<scalar_t>(), out.numel(), x.size(-1), out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), "sum_last", {
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::sum_last<scalar_t>(x.data<scalar_t>(), out.numel(), x.size(-1),
                                                                      out.data<scalar_t>(), cuda::current_stream()),
                                             "sum_last"));
      });
      return out;
  }
  return out;
}

StatusOr<Tensor> sum_backward(const Tensor& grad_out, const Shape& x_shape) {
  MONE_RETURN_IF_ERROR(check_float("sum_backward", grad_out, "grad_out"));
  MONE_RETURN_IF_ERROR(check_dim("sum_backward", grad_out, 0, "grad_out"));
  return spread_backward("sum_backward", grad_out, x_shape, shape_numel(x_shape), 1.0);
}

StatusOr<Tensor> mean_backward(const Tensor& grad_out, const Shape& x_shape) {
  MONE_RETURN_IF_ERROR(check_float("mean_backward", grad_out, "grad_out"));
  MONE_RETURN_IF_ERROR(check_dim("mean_backward", grad_out, 0, "grad_out"));
  const int64_t n = shape_numel(x_shape);
  return spread_backward("mean_backward", grad_out, x_shape, n, n == 0 ? 0.0 : 1.0 / n);
}

StatusOr<Tensor> sum_last_backward(const Tensor& grad_out, const Shape& x_shape) {
  MONE_RETURN_IF_ERROR(check_float("sum_last_backward", grad_out, "grad_out"));
  if (x_shape.empty()) {
    return absl::InvalidArgumentError("sum_last_backward: x_shape is [], expected at least 1 dim");
  }
  const Shape out_shape(x_shape.begin(), x_shape.end() - 1);
  if (grad_out.shape() != out_shape) {
    return absl::InvalidArgumentError(absl::StrCat("sum_last_backward: grad_out is ", grad_out.describe(),
                                                   ", expected shape ", shape_string(out_shape), " for x ",
                                                   shape_string(x_shape)));
  }
  return spread_backward("sum_last_backward", grad_out, x_shape, x_shape.back(), 1.0);
}

}  // namespace mone::ops

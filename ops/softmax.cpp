#include "ops/softmax.h"

#include "cuda/runtime.h"
#include "cuda/softmax.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/softmax.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

StatusOr<Tensor> softmax_impl(const char* op, const Tensor& x_in, bool log) {
  MONE_RETURN_IF_ERROR(check_float(op, x_in, "x"));
  MONE_RETURN_IF_ERROR(check_min_dim(op, x_in, 1, "x"));
  const Tensor x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor y, new_tensor(x.shape(), x.dtype(), x.device()));
  if (y.numel() == 0) return y;
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        const int64_t n = x.size(-1);
        cpu::softmax_forward<scalar_t>(x.data<scalar_t>(), x.numel() / n, n, log, y.data<scalar_t>());
      });
      return y;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        const int64_t n = x.size(-1);
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::softmax_forward<scalar_t>(x.data<scalar_t>(), x.numel() / n, n, log,
                                                                             y.data<scalar_t>(), cuda::current_stream()),
                                             op));
      });
      return y;
  }
  return y;
}

StatusOr<Tensor> softmax_backward_impl(const char* op, const Tensor& grad_out_in, const Tensor& y_in, bool log) {
  MONE_RETURN_IF_ERROR(check_float_same_shape(op, {{"grad_out", &grad_out_in}, {"y", &y_in}}));
  MONE_RETURN_IF_ERROR(check_min_dim(op, y_in, 1, "y"));
  const Tensor g = grad_out_in.contiguous(), y = y_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor grad_x, new_tensor(y.shape(), y.dtype(), y.device()));
  if (grad_x.numel() == 0) return grad_x;
  switch (y.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(y.dtype(), op, {
        const int64_t n = y.size(-1);
        cpu::softmax_backward<scalar_t>(g.data<scalar_t>(), y.data<scalar_t>(), y.numel() / n, n, log,
                                        grad_x.data<scalar_t>());
      });
      return grad_x;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(y.dtype(), op, {
        const int64_t n = y.size(-1);
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::softmax_backward<scalar_t>(g.data<scalar_t>(), y.data<scalar_t>(), y.numel() / n, n, log,
                                             grad_x.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return grad_x;
  }
  return grad_x;
}

}  // namespace

StatusOr<Tensor> softmax(const Tensor& x) { return softmax_impl("softmax", x, false); }
StatusOr<Tensor> log_softmax(const Tensor& x) { return softmax_impl("log_softmax", x, true); }

StatusOr<Tensor> softmax_backward(const Tensor& grad_out, const Tensor& y) {
  return softmax_backward_impl("softmax_backward", grad_out, y, false);
}
StatusOr<Tensor> log_softmax_backward(const Tensor& grad_out, const Tensor& y) {
  return softmax_backward_impl("log_softmax_backward", grad_out, y, true);
}

}  // namespace mone::ops

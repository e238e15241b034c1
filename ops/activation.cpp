#include "ops/activation.h"

#include "cuda/activation.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/activation.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

StatusOr<Tensor> activation(const char* op, Activation act, const Tensor& x_in) {
  MONE_RETURN_IF_ERROR(check_float(op, x_in, "x"));
  const Tensor x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor y, new_tensor(x.shape(), x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::activation_forward<scalar_t>(act, x.data<scalar_t>(), x.numel(), y.data<scalar_t>());
      });
      return y;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::activation_forward<scalar_t>(act, x.data<scalar_t>(), x.numel(),
                                                                                y.data<scalar_t>(),
                                                                                cuda::current_stream()),
                                             op));
      });
      return y;
  }
  return y;
}

// `in` is y for sigmoid and x for silu (see cpu::activation_backward).
StatusOr<Tensor> activation_backward(const char* op, Activation act, const Tensor& grad_out_in,
                                     const Tensor& in_in, const char* in_name) {
  MONE_RETURN_IF_ERROR(check_float_same_shape(op, {{"grad_out", &grad_out_in}, {in_name, &in_in}}));
  const Tensor g = grad_out_in.contiguous(), in = in_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor grad_x, new_tensor(in.shape(), in.dtype(), in.device()));
  switch (in.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(in.dtype(), op, {
        cpu::activation_backward<scalar_t>(act, g.data<scalar_t>(), in.data<scalar_t>(), in.numel(),
                                           grad_x.data<scalar_t>());
      });
      return grad_x;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(in.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::activation_backward<scalar_t>(act, g.data<scalar_t>(), in.data<scalar_t>(), in.numel(),
                                                grad_x.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return grad_x;
  }
  return grad_x;
}

}  // namespace

StatusOr<Tensor> sigmoid(const Tensor& x) { return activation("sigmoid", Activation::kSigmoid, x); }
StatusOr<Tensor> silu(const Tensor& x) { return activation("silu", Activation::kSilu, x); }

StatusOr<Tensor> sigmoid_backward(const Tensor& grad_out, const Tensor& y) {
  return activation_backward("sigmoid_backward", Activation::kSigmoid, grad_out, y, "y");
}
StatusOr<Tensor> silu_backward(const Tensor& grad_out, const Tensor& x) {
  return activation_backward("silu_backward", Activation::kSilu, grad_out, x, "x");
}

StatusOr<Tensor> swiglu(const Tensor& gate_in, const Tensor& up_in) {
  MONE_RETURN_IF_ERROR(check_float_same_shape("swiglu", {{"gate", &gate_in}, {"up", &up_in}}));
  const Tensor gate = gate_in.contiguous(), up = up_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor y, new_tensor(gate.shape(), gate.dtype(), gate.device()));
  switch (gate.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(gate.dtype(), "swiglu", {
        cpu::swiglu_forward<scalar_t>(gate.data<scalar_t>(), up.data<scalar_t>(), gate.numel(), y.data<scalar_t>());
      });
      return y;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(gate.dtype(), "swiglu", {
        MONE_RETURN_IF_ERROR(cuda::to_status(cuda::swiglu_forward<scalar_t>(gate.data<scalar_t>(), up.data<scalar_t>(),
                                                                            gate.numel(), y.data<scalar_t>(),
                                                                            cuda::current_stream()),
                                             "swiglu"));
      });
      return y;
  }
  return y;
}

StatusOr<SwigluGrads> swiglu_backward(const Tensor& grad_out_in, const Tensor& gate_in, const Tensor& up_in) {
  MONE_RETURN_IF_ERROR(check_float_same_shape("swiglu_backward",
                                              {{"grad_out", &grad_out_in}, {"gate", &gate_in}, {"up", &up_in}}));
  const Tensor g = grad_out_in.contiguous(), gate = gate_in.contiguous(), up = up_in.contiguous();
  SwigluGrads grads;
  MONE_ASSIGN_OR_RETURN(grads.grad_gate, new_tensor(gate.shape(), gate.dtype(), gate.device()));
  MONE_ASSIGN_OR_RETURN(grads.grad_up, new_tensor(gate.shape(), gate.dtype(), gate.device()));
  switch (gate.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(gate.dtype(), "swiglu_backward", {
        cpu::swiglu_backward<scalar_t>(g.data<scalar_t>(), gate.data<scalar_t>(), up.data<scalar_t>(), gate.numel(),
                                       grads.grad_gate.data<scalar_t>(), grads.grad_up.data<scalar_t>());
      });
      return grads;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(gate.dtype(), "swiglu_backward", {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::swiglu_backward<scalar_t>(g.data<scalar_t>(), gate.data<scalar_t>(), up.data<scalar_t>(),
                                            gate.numel(), grads.grad_gate.data<scalar_t>(),
                                            grads.grad_up.data<scalar_t>(), cuda::current_stream()),
            "swiglu_backward"));
      });
      return grads;
  }
  return grads;
}

}  // namespace mone::ops

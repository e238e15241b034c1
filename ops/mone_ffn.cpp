// Definitions and contracts: ops/mone_ffn.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/mone_ffn.h"

#include "ops/cpu/mone_ffn.h"
#include "ops/moe_common.h"

namespace mone::ops {

namespace {

// x [T, d], w_gate [D, d], w_up [D, d], w_down [d, D], one dtype and device; returns T, d, D
// (k_n left 0 for the caller).
StatusOr<cpu::MoneDims> check_expert(const char* op, const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                                     const Tensor& w_down) {
  MONE_RETURN_IF_ERROR(check_float_dims(op, x, 2, "x"));
  MONE_RETURN_IF_ERROR(check_float_dims(op, w_gate, 2, "w_gate"));
  MONE_RETURN_IF_ERROR(check_same(op, {{"x", &x}, {"w_gate", &w_gate}, {"w_up", &w_up}, {"w_down", &w_down}}));
  const int64_t d = x.size(1), D = w_gate.size(0);
  if (w_gate.size(1) != d || w_up.shape() != Shape{D, d} || w_down.shape() != Shape{d, D} || D < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": expected x [T, d], w_gate [D, d], w_up [D, d], w_down [d, D] with D >= 1, got ",
        describe_args({{"x", &x}, {"w_gate", &w_gate}, {"w_up", &w_up}, {"w_down", &w_down}})));
  }
  return cpu::MoneDims{x.size(0), d, D, 0};
}

// Keeping every neuron (K_N = D: the plain SwiGLU expert, MoE) there is nothing to gather: the
// three dense GEMMs of masked-dense compute the same numbers faster, whatever strategy was asked.
MoneStrategy effective_strategy(MoneStrategy strategy, const cpu::MoneDims& dims) {
  return dims.k_n == dims.D ? MoneStrategy::kMaskedDense : strategy;
}

}  // namespace

StatusOr<MoneFfnForward> mone_ffn_forward(const Tensor& x_in, const Tensor& wg_in, const Tensor& wu_in,
                                          const Tensor& wd_in, int64_t k_n, Activation act, MoneStrategy strategy) {
  constexpr const char* op = "mone_ffn_forward";
  MONE_ASSIGN_OR_RETURN(cpu::MoneDims dims, check_expert(op, x_in, wg_in, wu_in, wd_in));
  if (k_n < 1 || k_n > dims.D) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": k_n = ", k_n, " neurons kept, expected 1 <= k_n <= D = ", dims.D));
  }
  dims.k_n = k_n;
  strategy = effective_strategy(strategy, dims);
  const Tensor x = x_in.contiguous(), wg = wg_in.contiguous(), wu = wu_in.contiguous(), wd = wd_in.contiguous();
  const DType dt = x.dtype();
  const Device dev = x.device();
  MoneFfnForward f;
  MONE_ASSIGN_OR_RETURN(f.y, new_tensor({dims.tokens, dims.d}, dt, dev));
  MONE_ASSIGN_OR_RETURN(f.a, new_tensor({dims.tokens, dims.D}, dt, dev));
  MONE_ASSIGN_OR_RETURN(f.g, new_tensor({dims.tokens, dims.D}, dt, dev));
  MONE_ASSIGN_OR_RETURN(f.idx, new_tensor({dims.tokens, k_n}, DType::kI32, dev));
  MONE_ASSIGN_OR_RETURN(f.u, new_tensor({dims.tokens, k_n}, dt, dev));
  MONE_ASSIGN_OR_RETURN(f.h, new_tensor({dims.tokens, k_n}, dt, dev));
  switch (dev.type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(dt, op, {
        cpu::mone_ffn_forward<scalar_t>(x.data<scalar_t>(), wg.data<scalar_t>(), wu.data<scalar_t>(),
                                        wd.data<scalar_t>(), dims, act, strategy, f.y.data<scalar_t>(),
                                        f.a.data<scalar_t>(), f.g.data<scalar_t>(), f.idx.data<int32_t>(),
                                        f.u.data<scalar_t>(), f.h.data<scalar_t>());
      });
      return f;
    case DeviceType::kCUDA:
      return unsupported_device(op, dev);
  }
  return f;
}

StatusOr<MoneFfnGrads> mone_ffn_backward(const Tensor& grad_y_in, const Tensor& grad_g_extra_in, const Tensor& x_in,
                                         const Tensor& wg_in, const Tensor& wu_in, const Tensor& wd_in,
                                         const MoneFfnForward& fwd, TopkBackward estimator, MoneStrategy strategy,
                                         Activation act) {
  constexpr const char* op = "mone_ffn_backward";
  MONE_ASSIGN_OR_RETURN(cpu::MoneDims dims, check_expert(op, x_in, wg_in, wu_in, wd_in));
  MONE_RETURN_IF_ERROR(check_dtype(op, fwd.idx, DType::kI32, "forward.idx"));
  MONE_RETURN_IF_ERROR(check_dim(op, fwd.idx, 2, "forward.idx"));
  dims.k_n = fwd.idx.size(1);
  strategy = effective_strategy(strategy, dims);
  const Shape td{dims.tokens, dims.d}, tD{dims.tokens, dims.D}, tk{dims.tokens, dims.k_n};
  MONE_RETURN_IF_ERROR(check_shape(op, fwd.idx, tk, "forward.idx"));
  if (dims.k_n < 1 || dims.k_n > dims.D) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": forward.idx keeps ", dims.k_n, " of D = ", dims.D, " neurons"));
  }
  MONE_RETURN_IF_ERROR(check_ids_in_range(op, fwd.idx, dims.D, "forward.idx"));
  MONE_RETURN_IF_ERROR(check_like(op, grad_y_in, td, x_in, "grad_y"));
  MONE_RETURN_IF_ERROR(check_optional(op, grad_g_extra_in, tD, x_in, "grad_g_extra"));
  MONE_RETURN_IF_ERROR(check_like(op, fwd.a, tD, x_in, "forward.a"));
  MONE_RETURN_IF_ERROR(check_like(op, fwd.g, tD, x_in, "forward.g"));
  MONE_RETURN_IF_ERROR(check_like(op, fwd.u, tk, x_in, "forward.u"));
  MONE_RETURN_IF_ERROR(check_like(op, fwd.h, tk, x_in, "forward.h"));

  const Tensor x = x_in.contiguous(), wg = wg_in.contiguous(), wu = wu_in.contiguous(), wd = wd_in.contiguous();
  const Tensor dy = grad_y_in.contiguous(), dg_extra = contiguous_or_undefined(grad_g_extra_in);
  const Tensor a = fwd.a.contiguous(), g = fwd.g.contiguous(), idx = fwd.idx.contiguous();
  const Tensor u = fwd.u.contiguous(), h = fwd.h.contiguous();
  MoneFfnGrads r;
  MONE_ASSIGN_OR_RETURN(r.grad_x, new_tensor(x.shape(), x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(r.grad_w_gate, new_tensor(wg.shape(), x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(r.grad_w_up, new_tensor(wu.shape(), x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(r.grad_w_down, new_tensor(wd.shape(), x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::mone_ffn_backward<scalar_t>(
            dy.data<scalar_t>(), data_or_null<scalar_t>(dg_extra), x.data<scalar_t>(), wg.data<scalar_t>(),
            wu.data<scalar_t>(), wd.data<scalar_t>(), a.data<scalar_t>(), g.data<scalar_t>(), idx.data<int32_t>(),
            u.data<scalar_t>(), h.data<scalar_t>(), dims, estimator, strategy, act, r.grad_x.data<scalar_t>(),
            r.grad_w_gate.data<scalar_t>(), r.grad_w_up.data<scalar_t>(), r.grad_w_down.data<scalar_t>());
      });
      return r;
    case DeviceType::kCUDA:
      return unsupported_device(op, x.device());
  }
  return r;
}

StatusOr<MoneFfnForward> swiglu_expert_forward(const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                                               const Tensor& w_down, Activation act) {
  MONE_ASSIGN_OR_RETURN(cpu::MoneDims dims, check_expert("swiglu_expert_forward", x, w_gate, w_up, w_down));
  return mone_ffn_forward(x, w_gate, w_up, w_down, dims.D, act, MoneStrategy::kMaskedDense);
}

StatusOr<MoneFfnGrads> swiglu_expert_backward(const Tensor& grad_y, const Tensor& x, const Tensor& w_gate,
                                              const Tensor& w_up, const Tensor& w_down, const MoneFfnForward& fwd,
                                              Activation act) {
  return mone_ffn_backward(grad_y, Tensor(), x, w_gate, w_up, w_down, fwd, TopkBackward::kHard,
                           MoneStrategy::kMaskedDense, act);
}

}  // namespace mone::ops

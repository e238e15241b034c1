#include "ops/optim.h"

#include <cmath>

#include "cuda/elementwise.h"
#include "cuda/optim.h"
#include "cuda/reduce.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/optim.h"
#include "ops/cpu/reduce.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// A tensor written in place must be dense: a strided view would scatter the update.
Status check_contiguous(const char* op, const Tensor& t, const char* name) {
  if (t.is_contiguous()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", a non-contiguous view; it is updated in place"));
}

Status check_hyper(const char* op, const char* field, double value, double lo, double hi, bool hi_open) {
  const bool ok = std::isfinite(value) && value >= lo && (hi_open ? value < hi : value <= hi);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", field, " = ", value, " is outside [", lo, ", ", hi, hi_open ? ")" : "]"));
}

}  // namespace

StatusOr<double> global_grad_norm(const std::vector<Tensor>& grads) {
  const char* op = "global_grad_norm";
  // Each tensor's Σ g² in double, added in tensor order. The sums of CUDA tensors collect in one
  // device buffer and come to the host in one copy.
  std::vector<double> sums(grads.size(), 0.0);
  Tensor device_sums, partials;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    const std::string name = absl::StrCat("grads[", i, "]");
    MONE_RETURN_IF_ERROR(check_float(op, grads[i], name.c_str()));
    const Tensor g = grads[i].contiguous();
    switch (g.device().type) {
      case DeviceType::kCPU:
        MONE_DISPATCH_FLOAT(g.dtype(), op, { sums[i] = cpu::sum_squares<scalar_t>(g.data<scalar_t>(), g.numel()); });
        break;
      case DeviceType::kCUDA:
        if (!device_sums.defined()) {
          MONE_ASSIGN_OR_RETURN(device_sums,
                                new_tensor({static_cast<int64_t>(grads.size())}, DType::kF64, g.device()));
          MONE_ASSIGN_OR_RETURN(partials, new_tensor({cuda::kSumPartials}, DType::kF64, g.device()));
        } else if (device_sums.device() != g.device()) {
          return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", g.describe(),
                                                         ", but an earlier grad is on ",
                                                         device_sums.device().to_string()));
        }
        MONE_DISPATCH_CUDA_FLOAT(g.dtype(), op, {
          MONE_RETURN_IF_ERROR(cuda::to_status(cuda::sum_squares<scalar_t>(g.data<scalar_t>(), g.numel(),
                                                                            partials.data<double>(),
                                                                            device_sums.data<double>() + i,
                                                                            cuda::current_stream()),
                                               op));
        });
        break;
    }
  }
  if (device_sums.defined()) {
    MONE_ASSIGN_OR_RETURN(const Tensor host, device_sums.to(Device::cpu()));
    for (size_t i = 0; i < grads.size(); ++i) {
      if (grads[i].defined() && grads[i].device().is_cuda()) sums[i] = host.data<double>()[i];
    }
  }
  double sum_sq = 0.0;
  for (double v : sums) sum_sq += v;
  return std::sqrt(sum_sq);
}

StatusOr<double> clip_grad_norm(std::vector<Tensor>& grads, double max_norm) {
  const char* op = "clip_grad_norm";
  if (!(std::isfinite(max_norm) && max_norm > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": max_norm = ", max_norm, " must be positive and finite"));
  }
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i].defined()) MONE_RETURN_IF_ERROR(check_contiguous(op, grads[i], absl::StrCat("grads[", i, "]").c_str()));
  }
  MONE_ASSIGN_OR_RETURN(const double norm, global_grad_norm(grads));
  if (!std::isfinite(norm) || norm <= max_norm) return norm;
  const double s = max_norm / (norm + 1e-6);
  for (Tensor& g : grads) {
    if (!g.defined()) continue;
    switch (g.device().type) {
      case DeviceType::kCPU:
        MONE_DISPATCH_FLOAT(g.dtype(), op, { cpu::scale_in_place<scalar_t>(g.data<scalar_t>(), g.numel(), s); });
        g.bump_version();
        break;
      case DeviceType::kCUDA:
        MONE_DISPATCH_CUDA_FLOAT(g.dtype(), op, {
          MONE_RETURN_IF_ERROR(cuda::to_status(cuda::scale<scalar_t>(g.data<scalar_t>(), g.numel(),
                                                                     static_cast<float>(s), g.data<scalar_t>(),
                                                                     cuda::current_stream()),
                                               op));
        });
        g.bump_version();
        break;
    }
  }
  return norm;
}

Status adamw_update(Tensor& param, const Tensor& grad_in, Tensor& m, Tensor& v, const AdamWParams& p, int64_t step) {
  const char* op = "adamw_update";
  MONE_RETURN_IF_ERROR(
      check_float_same_shape(op, {{"param", &param}, {"grad", &grad_in}, {"m", &m}, {"v", &v}}));
  MONE_RETURN_IF_ERROR(check_contiguous(op, param, "param"));
  MONE_RETURN_IF_ERROR(check_contiguous(op, m, "m"));
  MONE_RETURN_IF_ERROR(check_contiguous(op, v, "v"));
  if (step < 1) return absl::InvalidArgumentError(absl::StrCat(op, ": step = ", step, " must be >= 1 (1-based)"));
  MONE_RETURN_IF_ERROR(check_hyper(op, "lr", p.lr, 0.0, INFINITY, true));
  MONE_RETURN_IF_ERROR(check_hyper(op, "beta1", p.beta1, 0.0, 1.0, true));
  MONE_RETURN_IF_ERROR(check_hyper(op, "beta2", p.beta2, 0.0, 1.0, true));
  MONE_RETURN_IF_ERROR(check_hyper(op, "eps", p.eps, 0.0, INFINITY, true));
  MONE_RETURN_IF_ERROR(check_hyper(op, "weight_decay", p.weight_decay, 0.0, INFINITY, true));
  MONE_RETURN_IF_ERROR(check_hyper(op, "grad_scale", p.grad_scale, 0.0, INFINITY, true));
  const Tensor grad = grad_in.contiguous();
  // Bias corrections undo the zero initialisation of m and v.
  const double bias1 = 1.0 - std::pow(p.beta1, static_cast<double>(step));
  const double bias2 = 1.0 - std::pow(p.beta2, static_cast<double>(step));
  switch (param.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(param.dtype(), op, {
        cpu::adamw_step<scalar_t>(param.data<scalar_t>(), grad.data<scalar_t>(), m.data<scalar_t>(),
                                  v.data<scalar_t>(), param.numel(), p.lr, p.beta1, p.beta2, p.eps, p.weight_decay,
                                  bias1, bias2, p.grad_scale);
      });
      break;
    case DeviceType::kCUDA:
      if (param.dtype() != DType::kF32) {
        return absl::UnimplementedError(absl::StrCat(op, ": the CUDA AdamW updates f32 master weights and state; param is ",
                                                     param.describe()));
      }
      MONE_RETURN_IF_ERROR(cuda::to_status(
          cuda::adamw_step(param.data<float>(), grad.data<float>(), m.data<float>(), v.data<float>(), param.numel(),
                           p.lr, p.beta1, p.beta2, p.eps, p.weight_decay, bias1, bias2, p.grad_scale,
                           cuda::current_stream()),
          op));
      break;
  }
  param.bump_version();
  m.bump_version();
  v.bump_version();
  return absl::OkStatus();
}

}  // namespace mone::ops

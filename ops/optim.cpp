#include "ops/optim.h"

#include <cmath>

#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/optim.h"
#include "ops/cpu/reduce.h"

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
  double sum_sq = 0.0;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    const std::string name = absl::StrCat("grads[", i, "]");
    MONE_RETURN_IF_ERROR(check_float("global_grad_norm", grads[i], name.c_str()));
    const Tensor g = grads[i].contiguous();
    switch (g.device().type) {
      case DeviceType::kCPU:
        MONE_DISPATCH_FLOAT(g.dtype(), "global_grad_norm",
                            { sum_sq += cpu::sum_squares<scalar_t>(g.data<scalar_t>(), g.numel()); });
        break;
      case DeviceType::kCUDA:
        return unsupported_device("global_grad_norm", g.device());
    }
  }
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
        return unsupported_device(op, g.device());
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
      return unsupported_device(op, param.device());
  }
  param.bump_version();
  m.bump_version();
  v.bump_version();
  return absl::OkStatus();
}

}  // namespace mone::ops

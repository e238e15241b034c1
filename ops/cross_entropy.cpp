#include "ops/cross_entropy.h"

#include <vector>

#include "cuda/cross_entropy.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/cross_entropy.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// logits [N, V] float with V >= 1; targets [N] i32/i64 on the same device, each in [0, V) or
// equal to ignore_index.
Status check_logits_and_targets(const char* op, const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  MONE_RETURN_IF_ERROR(check_float(op, logits, "logits"));
  MONE_RETURN_IF_ERROR(check_index_dtype(op, targets, "targets"));
  const auto args = {std::pair<const char*, const Tensor*>{"logits", &logits}, {"targets", &targets}};
  if (logits.dim() != 2 || logits.size(1) < 1 || targets.dim() != 1 || targets.size(0) != logits.size(0) ||
      targets.device() != logits.device()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": expected logits [N, V] with V >= 1 and targets [N] on the same device; ", describe_args(args)));
  }
  const int64_t V = logits.size(1);
  return check_indices(op, targets, "targets", {V, "V", ignore_index, "ignore_index", describe_args(args)});
}

}  // namespace

StatusOr<CrossEntropyForward> cross_entropy(const Tensor& logits_in, const Tensor& targets, int64_t ignore_index) {
  MONE_RETURN_IF_ERROR(check_logits_and_targets("cross_entropy", logits_in, targets, ignore_index));
  const Tensor logits = logits_in.contiguous();
  const int64_t N = logits.size(0), V = logits.size(1);
  CrossEntropyForward fwd;
  MONE_ASSIGN_OR_RETURN(fwd.loss, new_tensor({}, logits.dtype(), logits.device()));
  MONE_ASSIGN_OR_RETURN(fwd.lse, new_tensor({N}, logits.dtype(), logits.device()));
  switch (logits.device().type) {
    case DeviceType::kCPU: {
      const Tensor t = index_as_i64(targets);
      std::vector<double> row_loss(N);
      MONE_DISPATCH_FLOAT(logits.dtype(), "cross_entropy", {
        cpu::cross_entropy_forward<scalar_t>(logits.data<scalar_t>(), t.data<int64_t>(), N, V, ignore_index,
                                             fwd.lse.data<scalar_t>(), row_loss.data());
      });
      // The mean over counted rows, summed in row order (deterministic).
      double total = 0.0;
      for (int64_t r = 0; r < N; ++r) {
        if (t.data<int64_t>()[r] == ignore_index) continue;
        total += row_loss[r];
        ++fwd.count;
      }
      fwd.loss.fill_(fwd.count == 0 ? 0.0 : total / fwd.count);
      return fwd;
    }
    case DeviceType::kCUDA: {
      // C, the counted rows, from a host copy of the targets (the struct carries it to the backward).
      MONE_ASSIGN_OR_RETURN(const Tensor host_targets, targets.to(Device::cpu()));
      const Tensor t_host = index_as_i64(host_targets);
      for (int64_t r = 0; r < N; ++r) fwd.count += t_host.data<int64_t>()[r] != ignore_index;
      MONE_ASSIGN_OR_RETURN(const Tensor t, targets.contiguous().to(DType::kI64));
      MONE_ASSIGN_OR_RETURN(Tensor row_loss, new_tensor({N}, DType::kF64, logits.device()));
      MONE_DISPATCH_CUDA_FLOAT(logits.dtype(), "cross_entropy", {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::cross_entropy_forward<scalar_t>(logits.data<scalar_t>(), t.data<int64_t>(), N, V, ignore_index,
                                                  fwd.count, fwd.lse.data<scalar_t>(), row_loss.data<double>(),
                                                  fwd.loss.data<scalar_t>(), cuda::current_stream()),
            "cross_entropy"));
      });
      return fwd;
    }
  }
  return fwd;
}

StatusOr<Tensor> cross_entropy_backward(const Tensor& grad_loss, const Tensor& logits_in, const Tensor& targets,
                                        const Tensor& lse_in, int64_t ignore_index, int64_t count) {
  const char* op = "cross_entropy_backward";
  MONE_RETURN_IF_ERROR(check_logits_and_targets(op, logits_in, targets, ignore_index));
  MONE_RETURN_IF_ERROR(check_same(op, {{"grad_loss", &grad_loss}, {"logits", &logits_in}, {"lse", &lse_in}}));
  MONE_RETURN_IF_ERROR(check_dim(op, grad_loss, 0, "grad_loss"));
  const int64_t N = logits_in.size(0), V = logits_in.size(1);
  MONE_RETURN_IF_ERROR(check_shape(op, lse_in, {N}, "lse"));
  if (count < 0 || count > N) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": count ", count, " is outside [0, N = ", N, "]"));
  }
  const Tensor logits = logits_in.contiguous(), lse = lse_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor grad_logits, new_tensor(logits.shape(), logits.dtype(), logits.device()));
  switch (logits.device().type) {
    case DeviceType::kCPU: {
      const Tensor t = index_as_i64(targets);
      // count = 0 means nothing was counted: the gradient is zero.
      const double scale = count == 0 ? 0.0 : grad_loss.item() / count;
      MONE_DISPATCH_FLOAT(logits.dtype(), op, {
        cpu::cross_entropy_backward<scalar_t>(logits.data<scalar_t>(), t.data<int64_t>(), lse.data<scalar_t>(), N,
                                              V, ignore_index, scale, grad_logits.data<scalar_t>());
      });
      return grad_logits;
    }
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(const Tensor t, targets.contiguous().to(DType::kI64));
      MONE_DISPATCH_CUDA_FLOAT(logits.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::cross_entropy_backward<scalar_t>(logits.data<scalar_t>(), t.data<int64_t>(), lse.data<scalar_t>(),
                                                   N, V, ignore_index, grad_loss.data<scalar_t>(), count,
                                                   grad_logits.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return grad_logits;
    }
  }
  return grad_logits;
}

}  // namespace mone::ops

// Definitions and contracts: ops/moe_dispatch.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/moe_dispatch.h"

#include "cuda/moe_dispatch.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/cpu/moe_dispatch.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// A plan's tensors agree with its sizes and its rows index [0, N·K): plans are built by
// build_dispatch, but one made by hand must not read out of bounds.
Status check_plan(const char* op, const DispatchPlan& plan) {
  const int64_t pairs = plan.num_tokens * plan.k;
  if (plan.num_tokens < 0 || plan.k < 1 || plan.num_experts < 1) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": the dispatch plan has N = ", plan.num_tokens, ", K = ",
                                                   plan.k, ", E = ", plan.num_experts, " (build it with build_dispatch)"));
  }
  MONE_RETURN_IF_ERROR(check_dtype(op, plan.offsets, DType::kI64, "plan.offsets"));
  MONE_RETURN_IF_ERROR(check_shape(op, plan.offsets, {plan.num_experts + 1}, "plan.offsets"));
  MONE_RETURN_IF_ERROR(check_dtype(op, plan.order, DType::kI64, "plan.order"));
  MONE_RETURN_IF_ERROR(check_shape(op, plan.order, {pairs}, "plan.order"));
  MONE_RETURN_IF_ERROR(check_dtype(op, plan.slot_row, DType::kI64, "plan.slot_row"));
  MONE_RETURN_IF_ERROR(check_shape(op, plan.slot_row, {pairs}, "plan.slot_row"));
  MONE_RETURN_IF_ERROR(check_indices(op, plan.order, "plan.order", {pairs, "N·K"}));
  return check_indices(op, plan.slot_row, "plan.slot_row", {pairs, "N·K"});
}

// A float matrix [rows, any d] on the plan's device (the kernels read the plan in place).
Status check_rows(const char* op, const DispatchPlan& plan, const Tensor& t, int64_t rows, const char* name) {
  MONE_RETURN_IF_ERROR(check_float_dims(op, t, 2, name));
  if (t.device() != plan.order.device() || t.device() != plan.slot_row.device()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", t.describe(), ", the dispatch plan is on ",
                                                   plan.order.device().to_string(), " (build it where the rows are)"));
  }
  if (t.size(0) == rows) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected ", rows, " rows"));
}

}  // namespace

StatusOr<DispatchPlan> build_dispatch(const Tensor& ids_in, int64_t num_experts) {
  constexpr const char* op = "build_dispatch";
  MONE_RETURN_IF_ERROR(check_index_dtype(op, ids_in, "expert_ids"));
  MONE_RETURN_IF_ERROR(check_dim(op, ids_in, 2, "expert_ids"));
  if (num_experts < 1) return absl::InvalidArgumentError(absl::StrCat(op, ": num_experts = ", num_experts, ", expected >= 1"));
  if (ids_in.size(1) < 1) return absl::InvalidArgumentError(absl::StrCat(op, ": expert_ids is ", ids_in.describe(), ", expected K >= 1"));
  MONE_RETURN_IF_ERROR(check_indices(op, ids_in, "expert_ids", {num_experts, "E"}));
  MONE_ASSIGN_OR_RETURN(Tensor ids, ids_in.to(DType::kI64));
  ids = ids.contiguous();
  DispatchPlan plan;
  plan.num_tokens = ids.size(0);
  plan.k = ids.size(1);
  plan.num_experts = num_experts;
  const int64_t pairs = plan.num_tokens * plan.k;
  MONE_ASSIGN_OR_RETURN(plan.offsets, new_tensor({num_experts + 1}, DType::kI64, ids.device()));
  MONE_ASSIGN_OR_RETURN(plan.counts, new_tensor({num_experts}, DType::kI64, ids.device()));
  MONE_ASSIGN_OR_RETURN(plan.order, new_tensor({pairs}, DType::kI64, ids.device()));
  MONE_ASSIGN_OR_RETURN(plan.slot_row, new_tensor({pairs}, DType::kI64, ids.device()));
  switch (ids.device().type) {
    case DeviceType::kCPU:
      cpu::build_dispatch(ids.data<int64_t>(), plan.num_tokens, plan.k, num_experts, plan.counts.data<int64_t>(),
                          plan.offsets.data<int64_t>(), plan.order.data<int64_t>(), plan.slot_row.data<int64_t>());
      return plan;
    case DeviceType::kCUDA: {
      // The same counting sort, chunk by chunk (cuda/moe_dispatch.h): no host reads, no atomics.
      MONE_ASSIGN_OR_RETURN(Tensor scratch,
                            new_tensor({cuda::dispatch_scratch(pairs, num_experts)}, DType::kI64, ids.device()));
      MONE_RETURN_IF_ERROR(cuda::to_status(
          cuda::build_dispatch(ids.data<int64_t>(), pairs, num_experts, scratch.data<int64_t>(),
                               plan.counts.data<int64_t>(), plan.offsets.data<int64_t>(), plan.order.data<int64_t>(),
                               plan.slot_row.data<int64_t>(), cuda::current_stream()),
          op));
      return plan;
    }
  }
  return plan;
}

StatusOr<Tensor> permute(const Tensor& x_in, const DispatchPlan& plan) {
  constexpr const char* op = "permute";
  MONE_RETURN_IF_ERROR(check_plan(op, plan));
  MONE_RETURN_IF_ERROR(check_rows(op, plan, x_in, plan.num_tokens, "x"));
  const Tensor x = x_in.contiguous();
  const int64_t rows = plan.num_tokens * plan.k, d = x.size(1);
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor({rows, d}, x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::permute_forward<scalar_t>(x.data<scalar_t>(), plan.order.data<int64_t>(), rows, plan.k, d,
                                       out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::permute_forward<scalar_t>(x.data<scalar_t>(), plan.order.data<int64_t>(), rows, plan.k, d,
                                            out.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return out;
  }
  return out;
}

StatusOr<Tensor> permute_backward(const Tensor& grad_in, const DispatchPlan& plan) {
  constexpr const char* op = "permute_backward";
  MONE_RETURN_IF_ERROR(check_plan(op, plan));
  MONE_RETURN_IF_ERROR(check_rows(op, plan, grad_in, plan.num_tokens * plan.k, "grad_perm"));
  const Tensor grad = grad_in.contiguous();
  const int64_t d = grad.size(1);
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor({plan.num_tokens, d}, grad.dtype(), grad.device()));
  switch (grad.device().type) {
    case DeviceType::kCPU:
      // Permute's adjoint is a combine with unit weights: each token sums its K rows in slot order.
      MONE_DISPATCH_FLOAT(grad.dtype(), op, {
        cpu::combine_forward<scalar_t>(grad.data<scalar_t>(), nullptr, plan.slot_row.data<int64_t>(),
                                       plan.num_tokens, plan.k, d, out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(grad.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::combine_forward<scalar_t>(grad.data<scalar_t>(), nullptr, plan.slot_row.data<int64_t>(),
                                            plan.num_tokens, plan.k, d, out.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return out;
  }
  return out;
}

StatusOr<Tensor> combine(const Tensor& y_in, const Tensor& w_in, const DispatchPlan& plan) {
  constexpr const char* op = "combine";
  MONE_RETURN_IF_ERROR(check_plan(op, plan));
  MONE_RETURN_IF_ERROR(check_rows(op, plan, y_in, plan.num_tokens * plan.k, "y_perm"));
  MONE_RETURN_IF_ERROR(check_same(op, {{"y_perm", &y_in}, {"weights", &w_in}}));
  MONE_RETURN_IF_ERROR(check_shape(op, w_in, {plan.num_tokens, plan.k}, "weights"));
  const Tensor y = y_in.contiguous(), w = w_in.contiguous();
  const int64_t d = y.size(1);
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor({plan.num_tokens, d}, y.dtype(), y.device()));
  switch (y.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(y.dtype(), op, {
        cpu::combine_forward<scalar_t>(y.data<scalar_t>(), w.data<scalar_t>(), plan.slot_row.data<int64_t>(),
                                       plan.num_tokens, plan.k, d, out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(y.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::combine_forward<scalar_t>(y.data<scalar_t>(), w.data<scalar_t>(), plan.slot_row.data<int64_t>(),
                                            plan.num_tokens, plan.k, d, out.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return out;
  }
  return out;
}

StatusOr<CombineGrads> combine_backward(const Tensor& grad_in, const Tensor& y_in, const Tensor& w_in,
                                        const DispatchPlan& plan) {
  constexpr const char* op = "combine_backward";
  MONE_RETURN_IF_ERROR(check_plan(op, plan));
  MONE_RETURN_IF_ERROR(check_rows(op, plan, y_in, plan.num_tokens * plan.k, "y_perm"));
  MONE_RETURN_IF_ERROR(check_same(op, {{"grad_out", &grad_in}, {"y_perm", &y_in}, {"weights", &w_in}}));
  MONE_RETURN_IF_ERROR(check_shape(op, w_in, {plan.num_tokens, plan.k}, "weights"));
  MONE_RETURN_IF_ERROR(check_shape(op, grad_in, {plan.num_tokens, y_in.size(1)}, "grad_out"));
  const Tensor grad = grad_in.contiguous(), y = y_in.contiguous(), w = w_in.contiguous();
  const int64_t d = y.size(1);
  CombineGrads g;
  MONE_ASSIGN_OR_RETURN(g.grad_y_perm, new_tensor(y.shape(), y.dtype(), y.device()));
  MONE_ASSIGN_OR_RETURN(g.grad_weights, new_tensor(w.shape(), w.dtype(), w.device()));
  switch (y.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(y.dtype(), op, {
        cpu::combine_backward<scalar_t>(grad.data<scalar_t>(), y.data<scalar_t>(), w.data<scalar_t>(),
                                        plan.slot_row.data<int64_t>(), plan.num_tokens, plan.k, d,
                                        g.grad_y_perm.data<scalar_t>(), g.grad_weights.data<scalar_t>());
      });
      return g;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(y.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::combine_backward<scalar_t>(grad.data<scalar_t>(), y.data<scalar_t>(), w.data<scalar_t>(),
                                             plan.slot_row.data<int64_t>(), plan.num_tokens, plan.k, d,
                                             g.grad_y_perm.data<scalar_t>(), g.grad_weights.data<scalar_t>(),
                                             cuda::current_stream()),
            op));
      });
      return g;
  }
  return g;
}

}  // namespace mone::ops

#include "ops/topk.h"

#include "cuda/runtime.h"
#include "cuda/status.h"
#include "cuda/topk.h"
#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/topk.h"
#include "ops/cuda_dispatch.h"
#include "ops/gather.h"

namespace mone::ops {

StatusOr<TopkResult> topk(const Tensor& x_in, int64_t k) {
  MONE_RETURN_IF_ERROR(check_float("topk", x_in, "x"));
  MONE_RETURN_IF_ERROR(check_min_dim("topk", x_in, 1, "x"));
  const int64_t n = x_in.size(-1);
  if (k < 1 || k > n) {
    return absl::InvalidArgumentError(
        absl::StrCat("topk: k = ", k, " is outside [1, n = ", n, "] for x ", x_in.describe()));
  }
  const Tensor x = x_in.contiguous();
  Shape out_shape = x.shape();
  out_shape.back() = k;
  TopkResult result;
  MONE_ASSIGN_OR_RETURN(result.values, new_tensor(out_shape, x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(result.indices, new_tensor(out_shape, DType::kI64, x.device()));
  if (x.numel() == 0) return result;
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), "topk", {
        cpu::topk_forward<scalar_t>(x.data<scalar_t>(), x.numel() / n, n, k, result.values.data<scalar_t>(),
                                    result.indices.data<int64_t>());
      });
      return result;
    case DeviceType::kCUDA: {
      const int64_t rows = x.numel() / n;
      if (x.numel() > INT32_MAX) {
        return absl::UnimplementedError(
            absl::StrCat("topk: x ", x.describe(), " has 2^31 elements or more, above what the CUDA sort takes"));
      }
      size_t bytes = 0;
      MONE_RETURN_IF_ERROR(cuda::to_status(cuda::topk_workspace(rows, n, &bytes), "topk"));
      MONE_ASSIGN_OR_RETURN(Tensor workspace, cuda_workspace(bytes, x.device()));
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), "topk", {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::topk_forward<scalar_t>(result.values.data<scalar_t>(), result.indices.data<int64_t>(),
                                         x.data<scalar_t>(), rows, n, k, workspace.raw_data(), bytes,
                                         cuda::current_stream()),
            "topk"));
      });
      return result;
    }
  }
  return result;
}

StatusOr<Tensor> topk_backward(const Tensor& grad_values_in, const Tensor& indices, int64_t n) {
  const char* op = "topk_backward";
  MONE_RETURN_IF_ERROR(check_float(op, grad_values_in, "grad_values"));
  MONE_RETURN_IF_ERROR(check_min_dim(op, grad_values_in, 1, "grad_values"));
  MONE_RETURN_IF_ERROR(check_index_dtype(op, indices, "indices"));
  const auto args = {std::pair<const char*, const Tensor*>{"grad_values", &grad_values_in}, {"indices", &indices}};
  if (indices.shape() != grad_values_in.shape() || indices.device() != grad_values_in.device()) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": grad_values and indices must share shape and device; ", describe_args(args)));
  }
  const int64_t k = grad_values_in.size(-1);
  if (n < k) return absl::InvalidArgumentError(absl::StrCat(op, ": n = ", n, " is below k = ", k));
  MONE_RETURN_IF_ERROR(check_indices(op, indices, "indices", {n, "n"}));
  const Tensor g = grad_values_in.contiguous();
  Shape x_shape = g.shape();
  x_shape.back() = n;
  MONE_ASSIGN_OR_RETURN(Tensor grad_x, new_tensor(x_shape, g.dtype(), g.device()));
  if (grad_x.numel() == 0) return grad_x;
  switch (g.device().type) {
    case DeviceType::kCPU: {
      const Tensor idx = index_as_i64(indices);
      MONE_DISPATCH_FLOAT(g.dtype(), op, {
        cpu::topk_backward<scalar_t>(g.data<scalar_t>(), idx.data<int64_t>(), grad_x.numel() / n, n, k,
                                     grad_x.data<scalar_t>());
      });
      return grad_x;
    }
    case DeviceType::kCUDA:
      // The same sums as a scatter-add along the last dim (deterministic on CUDA, cuda/gather.h).
      return scatter_add(x_shape, -1, indices, g);
  }
  return grad_x;
}

}  // namespace mone::ops

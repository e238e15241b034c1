#include "ops/embedding.h"

#include <algorithm>

#include "cuda/embedding.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/embedding.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// ids i32/i64 on `device`, every id in [0, V).
Status check_ids(const char* op, const Tensor& ids, int64_t V, Device device) {
  MONE_RETURN_IF_ERROR(check_index_dtype(op, ids, "ids"));
  if (ids.device() != device) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ids is ", ids.describe(), ", expected device ", device.to_string()));
  }
  return check_indices(op, ids, "ids", {V, "V"});
}

}  // namespace

StatusOr<Tensor> embedding(const Tensor& weight_in, const Tensor& ids) {
  MONE_RETURN_IF_ERROR(check_float("embedding", weight_in, "weight"));
  MONE_RETURN_IF_ERROR(check_dim("embedding", weight_in, 2, "weight"));
  MONE_RETURN_IF_ERROR(check_ids("embedding", ids, weight_in.size(0), weight_in.device()));
  const Tensor weight = weight_in.contiguous();
  const int64_t d = weight.size(1);
  Shape out_shape = ids.shape();
  out_shape.push_back(d);
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(out_shape, weight.dtype(), weight.device()));
  if (out.numel() == 0) return out;
  switch (weight.device().type) {
    case DeviceType::kCPU: {
      const Tensor id64 = index_as_i64(ids);
      MONE_DISPATCH_FLOAT(weight.dtype(), "embedding", {
        cpu::embedding_forward<scalar_t>(weight.data<scalar_t>(), id64.data<int64_t>(), ids.numel(), d,
                                         out.data<scalar_t>());
      });
      return out;
    }
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(const Tensor id64, ids.contiguous().to(DType::kI64));
      MONE_DISPATCH_CUDA_FLOAT(weight.dtype(), "embedding", {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::embedding_forward<scalar_t>(weight.data<scalar_t>(), id64.data<int64_t>(), ids.numel(), d,
                                              out.data<scalar_t>(), cuda::current_stream()),
            "embedding"));
      });
      return out;
    }
  }
  return out;
}

StatusOr<Tensor> embedding_backward(const Tensor& grad_out_in, const Tensor& ids, int64_t V) {
  const char* op = "embedding_backward";
  MONE_RETURN_IF_ERROR(check_float(op, grad_out_in, "grad_out"));
  if (V < 0) return absl::InvalidArgumentError(absl::StrCat(op, ": V = ", V, " is negative"));
  MONE_RETURN_IF_ERROR(check_ids(op, ids, V, grad_out_in.device()));
  const Shape& gs = grad_out_in.shape();
  if (gs.size() != ids.shape().size() + 1 || !std::equal(ids.shape().begin(), ids.shape().end(), gs.begin())) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": grad_out must be ids' shape + [d]; ",
                                                   describe_args({{"grad_out", &grad_out_in}, {"ids", &ids}})));
  }
  const Tensor g = grad_out_in.contiguous();
  const int64_t d = gs.back();
  MONE_ASSIGN_OR_RETURN(Tensor grad_weight, new_tensor({V, d}, g.dtype(), g.device()));
  if (grad_weight.numel() == 0) return grad_weight;
  switch (g.device().type) {
    case DeviceType::kCPU: {
      const Tensor id64 = index_as_i64(ids);
      MONE_DISPATCH_FLOAT(g.dtype(), op, {
        cpu::embedding_backward<scalar_t>(g.data<scalar_t>(), id64.data<int64_t>(), ids.numel(), V, d,
                                          grad_weight.data<scalar_t>());
      });
      return grad_weight;
    }
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(const Tensor id64, ids.contiguous().to(DType::kI64));
      // Scratch for the sort keys (uint64 in an i64 tensor).
      MONE_ASSIGN_OR_RETURN(Tensor keys, new_tensor({cuda::embedding_backward_keys(ids.numel())}, DType::kI64,
                                                    g.device()));
      MONE_DISPATCH_CUDA_FLOAT(g.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::embedding_backward<scalar_t>(g.data<scalar_t>(), id64.data<int64_t>(), ids.numel(), V, d,
                                               static_cast<uint64_t*>(keys.raw_data()),
                                               grad_weight.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return grad_weight;
    }
  }
  return grad_weight;
}

}  // namespace mone::ops

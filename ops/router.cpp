// Definitions and contracts: ops/router.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/router.h"

#include "cuda/blas.h"
#include "cuda/router.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/cpu/matmul.h"
#include "ops/cpu/router.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

StatusOr<RouterForward> router_forward(const Tensor& x_in, const Tensor& w_in, int64_t k, bool norm_topk_prob) {
  constexpr const char* op = "router_forward";
  MONE_RETURN_IF_ERROR(check_float_dims(op, x_in, 2, "x"));
  MONE_RETURN_IF_ERROR(check_float_dims(op, w_in, 2, "w_router"));
  MONE_RETURN_IF_ERROR(check_same(op, {{"x", &x_in}, {"w_router", &w_in}}));
  const int64_t n = x_in.size(0), d = x_in.size(1), e = w_in.size(0);
  if (w_in.size(1) != d || e < 1) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": w_router must be [E >= 1, d]: ",
                                                   describe_args({{"x", &x_in}, {"w_router", &w_in}})));
  }
  if (k < 1 || k > e) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": k = ", k, " experts per token, expected 1 <= k <= E = ", e));
  }
  const Tensor x = x_in.contiguous(), w = w_in.contiguous();
  RouterForward f;
  f.norm_topk_prob = norm_topk_prob;
  MONE_ASSIGN_OR_RETURN(f.logits, new_tensor({n, e}, x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(f.probs, new_tensor({n, e}, x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(f.expert_ids, new_tensor({n, k}, DType::kI32, x.device()));
  MONE_ASSIGN_OR_RETURN(f.weights, new_tensor({n, k}, x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::router_forward<scalar_t>(x.data<scalar_t>(), w.data<scalar_t>(), n, d, e, k, norm_topk_prob,
                                      f.logits.data<scalar_t>(), f.probs.data<scalar_t>(),
                                      f.expert_ids.data<int32_t>(), f.weights.data<scalar_t>());
      });
      return f;
    case DeviceType::kCUDA: {
      // z = x · W_rᵀ through cuBLAS, then softmax, top-K and weights, one block per token.
      const cudaStream_t stream = cuda::current_stream();
      MONE_RETURN_IF_ERROR(cuda::gemm_batched(x.dtype(), 1, false, true, n, e, d, 1.f, x.raw_data(), d, 0,
                                              w.raw_data(), d, 0, 0.f, f.logits.raw_data(), e, n * e,
                                              x.device().index, stream, op));
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::router_select<scalar_t>(f.logits.data<scalar_t>(), n, e, k, norm_topk_prob,
                                          f.probs.data<scalar_t>(), f.expert_ids.data<int32_t>(),
                                          f.weights.data<scalar_t>(), stream),
            op));
      });
      return f;
    }
  }
  return f;
}

StatusOr<RouterGrads> router_backward(const Tensor& grad_weights_in, const Tensor& grad_probs_in,
                                      const Tensor& grad_logits_extra_in, const Tensor& x_in, const Tensor& w_in,
                                      const RouterForward& fwd) {
  constexpr const char* op = "router_backward";
  MONE_RETURN_IF_ERROR(check_float_dims(op, x_in, 2, "x"));
  MONE_RETURN_IF_ERROR(check_float_dims(op, w_in, 2, "w_router"));
  MONE_RETURN_IF_ERROR(check_same(op, {{"x", &x_in}, {"w_router", &w_in}, {"forward.probs", &fwd.probs},
                                       {"forward.weights", &fwd.weights}}));
  const int64_t n = x_in.size(0), d = x_in.size(1), e = w_in.size(0);
  if (w_in.size(1) != d) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": w_router must be [E, d]: ", describe_args({{"x", &x_in}, {"w_router", &w_in}})));
  }
  MONE_RETURN_IF_ERROR(check_shape(op, fwd.probs, {n, e}, "forward.probs"));
  MONE_RETURN_IF_ERROR(check_dtype(op, fwd.expert_ids, DType::kI32, "forward.expert_ids"));
  MONE_RETURN_IF_ERROR(check_dim(op, fwd.expert_ids, 2, "forward.expert_ids"));
  const int64_t k = fwd.expert_ids.size(1);
  MONE_RETURN_IF_ERROR(check_shape(op, fwd.expert_ids, {n, k}, "forward.expert_ids"));
  MONE_RETURN_IF_ERROR(check_indices(op, fwd.expert_ids, "forward.expert_ids", {e, "E"}));
  MONE_RETURN_IF_ERROR(check_shape(op, fwd.weights, {n, k}, "forward.weights"));
  MONE_RETURN_IF_ERROR(check_optional(op, grad_weights_in, {n, k}, x_in, "grad_weights"));
  MONE_RETURN_IF_ERROR(check_optional(op, grad_probs_in, {n, e}, x_in, "grad_probs"));
  MONE_RETURN_IF_ERROR(check_optional(op, grad_logits_extra_in, {n, e}, x_in, "grad_logits_extra"));

  const Tensor x = x_in.contiguous(), w = w_in.contiguous();
  const Tensor probs = fwd.probs.contiguous(), ids = fwd.expert_ids.contiguous(), weights = fwd.weights.contiguous();
  const Tensor grad_weights = contiguous_or_undefined(grad_weights_in);
  const Tensor grad_probs = contiguous_or_undefined(grad_probs_in);
  const Tensor grad_logits_extra = contiguous_or_undefined(grad_logits_extra_in);
  RouterGrads g;
  MONE_ASSIGN_OR_RETURN(g.grad_x, new_tensor({n, d}, x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(g.grad_w_router, new_tensor({e, d}, x.dtype(), x.device()));
  MONE_ASSIGN_OR_RETURN(Tensor grad_logits, new_tensor({n, e}, x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        scalar_t* dz = grad_logits.data<scalar_t>();
        cpu::router_logits_backward<scalar_t>(data_or_null<scalar_t>(grad_weights), data_or_null<scalar_t>(grad_probs),
                                              data_or_null<scalar_t>(grad_logits_extra), probs.data<scalar_t>(),
                                              ids.data<int32_t>(), weights.data<scalar_t>(), n, e, k,
                                              fwd.norm_topk_prob, dz);
        // grad_x [N, d] = dz [N, E] · W_r [E, d];  grad_w_router [E, d] = dzᵀ · x [N, d].
        cpu::gemm<scalar_t>(false, false, n, d, e, 1, dz, e, w.data<scalar_t>(), d, 0,
                                g.grad_x.data<scalar_t>(), d);
        cpu::gemm<scalar_t>(true, false, e, d, n, 1, dz, e, x.data<scalar_t>(), d, 0,
                                g.grad_w_router.data<scalar_t>(), d);
      });
      return g;
    case DeviceType::kCUDA: {
      const cudaStream_t stream = cuda::current_stream();
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::router_logits_backward<scalar_t>(
                data_or_null<scalar_t>(grad_weights), data_or_null<scalar_t>(grad_probs),
                data_or_null<scalar_t>(grad_logits_extra), probs.data<scalar_t>(), ids.data<int32_t>(),
                weights.data<scalar_t>(), n, e, k, fwd.norm_topk_prob, grad_logits.data<scalar_t>(), stream),
            op));
      });
      // The same two GEMMs as the CPU's, through cuBLAS.
      MONE_RETURN_IF_ERROR(cuda::gemm_batched(x.dtype(), 1, false, false, n, d, e, 1.f, grad_logits.raw_data(), e, 0,
                                              w.raw_data(), d, 0, 0.f, g.grad_x.raw_data(), d, n * d,
                                              x.device().index, stream, op));
      MONE_RETURN_IF_ERROR(cuda::gemm_batched(x.dtype(), 1, true, false, e, d, n, 1.f, grad_logits.raw_data(), e, 0,
                                              x.raw_data(), d, 0, 0.f, g.grad_w_router.raw_data(), d, e * d,
                                              x.device().index, stream, op));
      return g;
    }
  }
  return g;
}

}  // namespace mone::ops

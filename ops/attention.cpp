// Attention forward and backward: checks, then the CPU kernels. Shape letters (ops/attention.h):
// B batch, Tq query rows, Tk key rows, H query heads, Hkv kv heads, hd head dim.
#include "ops/attention.h"

#include "cuda/attention.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/cpu/attention.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

StatusOr<cpu::AttentionDims> attention_dims(const char* op, const Tensor& q, const Tensor& k, const Tensor& v) {
  MONE_RETURN_IF_ERROR(check_same(op, {{"q", &q}, {"k", &k}, {"v", &v}}));
  MONE_RETURN_IF_ERROR(check_float(op, q, "q"));
  const auto error = [&](const char* what) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", what, ": ", describe_args({{"q", &q}, {"k", &k}, {"v", &v}}),
                                                   " (expected q [B, Tq, H, hd], k and v [B, Tk, Hkv, hd])"));
  };
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) return error("expected 4-D tensors");
  if (k.shape() != v.shape()) return error("k and v differ in shape");
  if (q.size(0) != k.size(0)) return error("batch sizes differ");
  if (q.size(3) != k.size(3)) return error("head dims differ");
  if (q.size(3) == 0) return error("head dim is 0");
  if (k.size(2) == 0 || q.size(2) % k.size(2) != 0) return error("query heads H must be a multiple of kv heads Hkv");
  if (k.size(1) < q.size(1)) return error("fewer keys than queries (Tk < Tq); the queries are the last Tq of Tk positions");
  return cpu::AttentionDims{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3)};
}

// The CUDA kernels are compiled for head dims up to cuda::kAttentionMaxHeadDim.
StatusOr<cuda::AttentionDims> cuda_dims(const char* op, const cpu::AttentionDims& d) {
  if (d.hd > cuda::kAttentionMaxHeadDim) {
    return absl::UnimplementedError(absl::StrCat(op, ": head dim ", d.hd, " is above ", cuda::kAttentionMaxHeadDim,
                                                 ", the largest the CUDA kernels take"));
  }
  return cuda::AttentionDims{d.b, d.tq, d.tk, d.h, d.hkv, d.hd};
}

// The row logsumexp is kept in the accumulation type: f64 for f64, f32 for f32 and bf16.
DType lse_dtype(DType input) { return input == DType::kF64 ? DType::kF64 : DType::kF32; }

}  // namespace

StatusOr<AttentionForward> attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in) {
  MONE_ASSIGN_OR_RETURN(cpu::AttentionDims d, attention_dims("attention", q_in, k_in, v_in));
  const Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  AttentionForward f;
  MONE_ASSIGN_OR_RETURN(f.out, new_tensor(q.shape(), q.dtype(), q.device()));
  MONE_ASSIGN_OR_RETURN(f.lse, new_tensor({d.b, d.h, d.tq}, lse_dtype(q.dtype()), q.device()));
  switch (q.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(q.dtype(), "attention", {
        cpu::attention_forward<scalar_t>(f.out.data<scalar_t>(), f.lse.data<scalar_t>(), q.data<scalar_t>(),
                                         k.data<scalar_t>(), v.data<scalar_t>(), d);
      });
      return f;
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(const cuda::AttentionDims cd, cuda_dims("attention", d));
      MONE_DISPATCH_CUDA_FLOAT(q.dtype(), "attention", {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::attention_forward(f.out.data<scalar_t>(), f.lse.data<float>(), q.data<scalar_t>(),
                                    k.data<scalar_t>(), v.data<scalar_t>(), cd, cuda::current_stream()),
            "attention"));
      });
      return f;
    }
  }
  return f;
}

StatusOr<AttentionGrads> attention_backward(const Tensor& grad_out_in, const Tensor& q_in, const Tensor& k_in,
                                            const Tensor& v_in, const AttentionForward& forward) {
  const char* op = "attention_backward";
  MONE_ASSIGN_OR_RETURN(cpu::AttentionDims d, attention_dims(op, q_in, k_in, v_in));
  MONE_RETURN_IF_ERROR(check_same(op, {{"grad_out", &grad_out_in}, {"q", &q_in}, {"forward.out", &forward.out}}));
  MONE_RETURN_IF_ERROR(check_shape(op, grad_out_in, q_in.shape(), "grad_out"));
  MONE_RETURN_IF_ERROR(check_shape(op, forward.out, q_in.shape(), "forward.out"));
  MONE_RETURN_IF_ERROR(check_shape(op, forward.lse, {d.b, d.h, d.tq}, "forward.lse"));
  MONE_RETURN_IF_ERROR(check_dtype(op, forward.lse, lse_dtype(q_in.dtype()), "forward.lse"));
  if (forward.lse.device() != q_in.device()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": forward.lse is on another device: ",
                                                   describe_args({{"q", &q_in}, {"forward.lse", &forward.lse}})));
  }
  const Tensor grad_out = grad_out_in.contiguous(), q = q_in.contiguous(), k = k_in.contiguous(),
               v = v_in.contiguous(), out = forward.out.contiguous(), lse = forward.lse.contiguous();
  AttentionGrads g;
  MONE_ASSIGN_OR_RETURN(g.grad_q, new_tensor(q.shape(), q.dtype(), q.device()));
  MONE_ASSIGN_OR_RETURN(g.grad_k, new_tensor(k.shape(), k.dtype(), k.device()));
  MONE_ASSIGN_OR_RETURN(g.grad_v, new_tensor(v.shape(), v.dtype(), v.device()));
  switch (q.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(q.dtype(), op, {
        cpu::attention_backward<scalar_t>(g.grad_q.data<scalar_t>(), g.grad_k.data<scalar_t>(),
                                          g.grad_v.data<scalar_t>(), grad_out.data<scalar_t>(), q.data<scalar_t>(),
                                          k.data<scalar_t>(), v.data<scalar_t>(), out.data<scalar_t>(),
                                          lse.data<scalar_t>(), d);
      });
      return g;
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(const cuda::AttentionDims cd, cuda_dims(op, d));
      MONE_ASSIGN_OR_RETURN(Tensor delta, new_tensor({d.b, d.h, d.tq}, DType::kF32, q.device()));
      MONE_DISPATCH_CUDA_FLOAT(q.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::attention_backward(g.grad_q.data<scalar_t>(), g.grad_k.data<scalar_t>(), g.grad_v.data<scalar_t>(),
                                     delta.data<float>(), grad_out.data<scalar_t>(), q.data<scalar_t>(),
                                     k.data<scalar_t>(), v.data<scalar_t>(), out.data<scalar_t>(),
                                     lse.data<float>(), cd, cuda::current_stream()),
            op));
      });
      return g;
    }
  }
  return g;
}

}  // namespace mone::ops

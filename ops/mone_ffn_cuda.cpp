// Definitions and contracts: ops/mone_ffn_cuda.h (the formulas: ops/mone_ffn.h).
// Shape letters: R rows grouped by expert, d model width, E experts, D expert width, K_N kept;
//   T_e the rows of expert e.
#include "ops/mone_ffn_cuda.h"

#include <vector>

#include "cuda/activation.h"
#include "cuda/blas.h"
#include "cuda/mone_ffn.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// Expert e's rows [seg[e], seg[e + 1]): from the offsets' host copy (`known`: the forward's, which
// the backward reuses; else this call's one device-to-host copy), or every row for one expert.
StatusOr<std::vector<int64_t>> segments(const char* op, const Tensor& offsets, const cpu::MoneDims& dims,
                                        const Tensor& known = Tensor()) {
  if (!offsets.defined()) return std::vector<int64_t>{0, dims.rows};
  const bool reuse = known.defined() && known.device().is_cpu() && known.numel() == dims.experts + 1;
  MONE_ASSIGN_OR_RETURN(const Tensor host, reuse ? StatusOr<Tensor>(known) : offsets.to(Device::cpu()));
  const int64_t* o = host.data<int64_t>();
  std::vector<int64_t> seg(o, o + dims.experts + 1);
  bool ok = seg[0] == 0 && seg[dims.experts] == dims.rows;
  for (int64_t e = 0; e < dims.experts && ok; ++e) ok = seg[e] <= seg[e + 1];
  if (ok) return seg;
  return absl::InvalidArgumentError(absl::StrCat(op, ": offsets must rise from 0 to the input's ", dims.rows,
                                                 " rows, got [", seg[0], ", ..., ", seg[dims.experts], "]"));
}

// Row-major GEMMs of one call on its stream: c [m, n] = op(a) · op(b) (+ c when beta is 1). With
// k = 0 (an expert without rows, for a weight gradient) c is zeroed (cuda/blas.h).
template <typename T>
struct Gemm {
  DType dtype;
  int device;
  cudaStream_t stream;
  const char* op;
  Status operator()(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                    int64_t ldb, float beta, T* c, int64_t ldc) const {
    return cuda::gemm_batched(dtype, 1, trans_a, trans_b, m, n, k, 1.f, a, lda, 0, b, ldb, 0, beta, c, ldc, m * n,
                              device, stream, op);
  }
};

// Keeping every neuron there is nothing to gather: masked-dense (as ops/cpu/mone_ffn.cpp).
bool gathers(const MoneFfnConfig& c, const cpu::MoneDims& dims) {
  return c.strategy == MoneStrategy::kGathered && dims.k_n < dims.D;
}

cuda::ExpertRows expert_rows(const Tensor& offsets, const cpu::MoneDims& dims) {
  return {offsets.defined() ? offsets.data<int64_t>() : nullptr, dims.experts, dims.rows, dims.d, dims.D, dims.k_n};
}

template <typename T>
Status forward(const Tensor& x_t, const Tensor& offsets, const Tensor& wg_t, const Tensor& wu_t, const Tensor& wd_t,
               const cpu::MoneDims& dims, const MoneFfnConfig& c, MoneFfnForward& f) {
  constexpr const char* op = "mone_ffn_forward";
  MONE_ASSIGN_OR_RETURN(const std::vector<int64_t> seg, segments(op, offsets, dims));
  if (offsets.defined()) {
    MONE_ASSIGN_OR_RETURN(f.host_offsets, Tensor::from_vector(seg, {dims.experts + 1}));
  }
  const int64_t R = dims.rows, d = dims.d, D = dims.D, k_n = dims.k_n, E = dims.experts;
  const Device dev = x_t.device();
  const cudaStream_t stream = cuda::current_stream();
  const Gemm<T> gemm{x_t.dtype(), dev.index, stream, op};
  const auto check = [&](cudaError_t e) { return cuda::to_status(e, op); };
  const T *x = x_t.data<T>(), *wg = wg_t.data<T>(), *wu = wu_t.data<T>(), *wd = wd_t.data<T>();
  T *y = f.y.data<T>(), *a = f.a.data<T>(), *g = f.g.data<T>(), *u = f.u.data<T>(), *h = f.h.data<T>();
  int32_t* idx = f.idx.data<int32_t>();

  // a = x W_gateᵀ per expert (every |G| is needed to choose I), G = act(a), I = top-K_N |G|.
  for (int64_t e = 0; e < E; ++e) {
    const int64_t r0 = seg[e], rows = seg[e + 1] - r0;
    MONE_RETURN_IF_ERROR(gemm(false, true, rows, D, d, x + r0 * d, d, wg + e * D * d, d, 0.f, a + r0 * D, D));
  }
  MONE_RETURN_IF_ERROR(check(cuda::activation_forward<T>(c.act, a, R * D, g, stream)));
  MONE_RETURN_IF_ERROR(check(cuda::neuron_topk<T>(g, R, D, k_n, idx, stream)));

  if (gathers(c, dims)) {
    // u_k = W_up[I_k] · x_t, h = G[I] ⊙ u, y_t = Σ_k h_k W_downᵀ[I_k] (W_down transposed once).
    const cuda::ExpertRows rows = expert_rows(offsets, dims);
    MONE_ASSIGN_OR_RETURN(Tensor wd_tr, new_tensor({E, D, d}, x_t.dtype(), dev));
    MONE_RETURN_IF_ERROR(check(cuda::transpose_experts<T>(wd, E, d, D, wd_tr.data<T>(), stream)));
    MONE_RETURN_IF_ERROR(check(cuda::gathered_up<T>(x, wu, g, idx, rows, u, h, stream)));
    return check(cuda::gathered_sum<T>(wd_tr.data<T>(), h, idx, rows, y, stream));
  }
  // Masked-dense: U = x W_upᵀ per expert, u and h from U, H (zero off I) in U's buffer, y = H W_downᵀ.
  MONE_ASSIGN_OR_RETURN(Tensor dense_t, new_tensor({R, D}, x_t.dtype(), dev));
  T* dense = dense_t.data<T>();
  for (int64_t e = 0; e < E; ++e) {
    const int64_t r0 = seg[e], rows = seg[e + 1] - r0;
    MONE_RETURN_IF_ERROR(gemm(false, true, rows, D, d, x + r0 * d, d, wu + e * D * d, d, 0.f, dense + r0 * D, D));
  }
  MONE_RETURN_IF_ERROR(check(cuda::select_masked<T>(dense, g, idx, R, D, k_n, u, h, stream)));
  for (int64_t e = 0; e < E; ++e) {
    const int64_t r0 = seg[e], rows = seg[e + 1] - r0;
    MONE_RETURN_IF_ERROR(gemm(false, true, rows, d, D, dense + r0 * D, D, wd + e * d * D, D, 0.f, y + r0 * d, d));
  }
  return absl::OkStatus();
}

template <typename T>
Status backward(const Tensor& dy_t, const Tensor& extra_t, const Tensor& x_t, const Tensor& offsets,
                const Tensor& wg_t, const Tensor& wu_t, const Tensor& wd_t, const MoneFfnForward& fwd,
                const cpu::MoneDims& dims, const MoneFfnConfig& c, MoneFfnGrads& r) {
  constexpr const char* op = "mone_ffn_backward";
  MONE_ASSIGN_OR_RETURN(const std::vector<int64_t> seg, segments(op, offsets, dims, fwd.host_offsets));
  const int64_t R = dims.rows, d = dims.d, D = dims.D, k_n = dims.k_n, E = dims.experts;
  const DType dt = x_t.dtype();
  const Device dev = x_t.device();
  const cudaStream_t stream = cuda::current_stream();
  const Gemm<T> gemm{dt, dev.index, stream, op};
  const auto check = [&](cudaError_t e) { return cuda::to_status(e, op); };
  const T *x = x_t.data<T>(), *wg = wg_t.data<T>(), *wu = wu_t.data<T>(), *wd = wd_t.data<T>();
  const T *dy = data_or_null<T>(dy_t), *extra = data_or_null<T>(extra_t);
  const T *a = fwd.a.data<T>(), *g = fwd.g.data<T>(), *u = fwd.u.data<T>(), *h = fwd.h.data<T>();
  const int32_t* idx = fwd.idx.data<int32_t>();
  T *gx = r.grad_x.data<T>(), *gwg = r.grad_w_gate.data<T>(), *gwu = r.grad_w_up.data<T>();
  T* gwd = r.grad_w_down.data<T>();
  const bool straight_through = c.estimator == TopkBackward::kStraightThrough;

  // da = dG ⊙ act'(a), where dG = dG_extra plus what flows from y.
  Tensor da_t;
  if (dy == nullptr) {  // nothing flows through y: up and down get no gradient
    MONE_ASSIGN_OR_RETURN(da_t, new_tensor({R, D}, dt, dev));
    for (const Tensor* t : {&r.grad_x, &r.grad_w_up, &r.grad_w_down}) {
      MONE_RETURN_IF_ERROR(check(cuda::memset_zero(t->raw_data(), t->nbytes(), stream)));
    }
    MONE_RETURN_IF_ERROR(check(cuda::hard_backward<T>(nullptr, extra, a, g, idx, u, R, D, k_n, c.act,
                                                      da_t.data<T>(), nullptr, stream)));
  } else if (gathers(c, dims) && !straight_through) {
    // Gathered HARD: only the selected rows of W_up and columns of W_down are read.
    const cuda::ExpertRows rows = expert_rows(offsets, dims);
    MONE_ASSIGN_OR_RETURN(da_t, new_tensor({R, D}, dt, dev));
    MONE_ASSIGN_OR_RETURN(Tensor wd_tr, new_tensor({E, D, d}, dt, dev));
    MONE_ASSIGN_OR_RETURN(Tensor du, new_tensor({R, k_n}, dt, dev));
    MONE_RETURN_IF_ERROR(check(cuda::transpose_experts<T>(wd, E, d, D, wd_tr.data<T>(), stream)));
    MONE_RETURN_IF_ERROR(check(cuda::hard_backward<T>(nullptr, extra, a, g, idx, u, R, D, k_n, c.act,
                                                      da_t.data<T>(), nullptr, stream)));
    MONE_RETURN_IF_ERROR(check(cuda::gathered_dh<T>(wd_tr.data<T>(), dy, extra, a, g, idx, u, rows, c.act,
                                                    da_t.data<T>(), du.data<T>(), stream)));
    MONE_RETURN_IF_ERROR(check(cuda::gathered_sum<T>(wu, du.data<T>(), idx, rows, gx, stream)));
    size_t bytes = 0;
    MONE_RETURN_IF_ERROR(check(cuda::gathered_weight_grads_workspace(R * k_n, &bytes)));
    MONE_ASSIGN_OR_RETURN(Tensor workspace, cuda_workspace(bytes, dev));
    // W_downᵀ is read by now: its buffer takes dW_downᵀ.
    MONE_RETURN_IF_ERROR(check(cuda::gathered_weight_grads<T>(dy, x, h, du.data<T>(), idx, rows, workspace.raw_data(),
                                                              bytes, wd_tr.data<T>(), gwu, stream)));
    MONE_RETURN_IF_ERROR(check(cuda::transpose_experts<T>(wd_tr.data<T>(), E, D, d, gwd, stream)));
  } else {
    // Dense: dH = dy W_down, dW_down = dyᵀ H per expert; then dU and da on I (HARD) or everywhere
    // with the dense U (STRAIGHT_THROUGH); dW_up = dUᵀ x, dx = dU W_up.
    MONE_ASSIGN_OR_RETURN(Tensor dH_t, new_tensor({R, D}, dt, dev));
    MONE_ASSIGN_OR_RETURN(Tensor work_t, new_tensor({R, D}, dt, dev));  // H, then U or dU
    T *dH = dH_t.data<T>(), *work = work_t.data<T>();
    MONE_RETURN_IF_ERROR(check(cuda::scatter_selected<T>(h, idx, R, D, k_n, work, stream)));
    for (int64_t e = 0; e < E; ++e) {
      const int64_t r0 = seg[e], rows = seg[e + 1] - r0;
      MONE_RETURN_IF_ERROR(gemm(false, false, rows, D, d, dy + r0 * d, d, wd + e * d * D, D, 0.f, dH + r0 * D, D));
      MONE_RETURN_IF_ERROR(gemm(true, false, d, D, rows, dy + r0 * d, d, work + r0 * D, D, 0.f, gwd + e * d * D, D));
    }
    if (straight_through) {
      for (int64_t e = 0; e < E; ++e) {
        const int64_t r0 = seg[e], rows = seg[e + 1] - r0;
        MONE_RETURN_IF_ERROR(gemm(false, true, rows, D, d, x + r0 * d, d, wu + e * D * d, d, 0.f, work + r0 * D, D));
      }
      MONE_RETURN_IF_ERROR(check(cuda::straight_through_backward<T>(extra, a, g, R * D, c.act, dH, work, stream)));
      da_t = dH_t;  // in place: dH became da
    } else {
      MONE_ASSIGN_OR_RETURN(da_t, new_tensor({R, D}, dt, dev));
      MONE_RETURN_IF_ERROR(check(cuda::hard_backward<T>(dH, extra, a, g, idx, u, R, D, k_n, c.act, da_t.data<T>(),
                                                        work, stream)));
    }
    for (int64_t e = 0; e < E; ++e) {
      const int64_t r0 = seg[e], rows = seg[e + 1] - r0;
      MONE_RETURN_IF_ERROR(gemm(true, false, D, d, rows, work + r0 * D, D, x + r0 * d, d, 0.f, gwu + e * D * d, d));
      MONE_RETURN_IF_ERROR(gemm(false, false, rows, d, D, work + r0 * D, D, wu + e * D * d, d, 0.f, gx + r0 * d, d));
    }
  }
  // The gate, every path: dW_gate = daᵀ x, dx += da W_gate, per expert (an empty one gets zeros).
  const T* da = da_t.data<T>();
  for (int64_t e = 0; e < E; ++e) {
    const int64_t r0 = seg[e], rows = seg[e + 1] - r0;
    MONE_RETURN_IF_ERROR(gemm(true, false, D, d, rows, da + r0 * D, D, x + r0 * d, d, 0.f, gwg + e * D * d, d));
    MONE_RETURN_IF_ERROR(gemm(false, false, rows, d, D, da + r0 * D, D, wg + e * D * d, d, 1.f, gx + r0 * d, d));
  }
  return absl::OkStatus();
}

}  // namespace

Status mone_ffn_forward_cuda(const Tensor& x, const Tensor& offsets, const Tensor& w_gate, const Tensor& w_up,
                             const Tensor& w_down, const cpu::MoneDims& dims, const MoneFfnConfig& config,
                             MoneFfnForward& f) {
  MONE_DISPATCH_CUDA_FLOAT(x.dtype(), "mone_ffn_forward",
                           { return forward<scalar_t>(x, offsets, w_gate, w_up, w_down, dims, config, f); });
  return absl::OkStatus();
}

Status mone_ffn_backward_cuda(const Tensor& grad_y, const Tensor& grad_g_extra, const Tensor& x, const Tensor& offsets,
                              const Tensor& w_gate, const Tensor& w_up, const Tensor& w_down,
                              const MoneFfnForward& fwd, const cpu::MoneDims& dims, const MoneFfnConfig& config,
                              MoneFfnGrads& r) {
  MONE_DISPATCH_CUDA_FLOAT(x.dtype(), "mone_ffn_backward", {
    return backward<scalar_t>(grad_y, grad_g_extra, x, offsets, w_gate, w_up, w_down, fwd, dims, config, r);
  });
  return absl::OkStatus();
}

}  // namespace mone::ops

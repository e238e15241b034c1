// Definitions and contracts: ops/mone_ffn.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R rows grouped by expert.
#include "ops/mone_ffn.h"

#include <algorithm>

#include "ops/common.h"
#include "ops/cpu/mone_ffn.h"
#include "ops/mone_ffn_cuda.h"

namespace mone::ops {

namespace {

// x [R, d]; weights [E, D, d], [E, D, d], [E, d, D] with offsets [E + 1], or [D, d], [D, d],
// [d, D] without (one expert); one dtype and device. Returns R, d, D and E (k_n left 0).
StatusOr<cpu::MoneDims> check_experts(const char* op, const Tensor& x, const Tensor& offsets, const Tensor& w_gate,
                                      const Tensor& w_up, const Tensor& w_down) {
  MONE_RETURN_IF_ERROR(check_float_dims(op, x, 2, "x"));
  MONE_RETURN_IF_ERROR(check_same(op, {{"x", &x}, {"w_gate", &w_gate}, {"w_up", &w_up}, {"w_down", &w_down}}));
  const bool stacked = offsets.defined();
  const int64_t lead = stacked ? 1 : 0;  // weights carry a leading E dim with offsets
  if (w_gate.dim() != 2 + lead) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": w_gate is ", w_gate.describe(), ", expected ",
                                                   stacked ? "[E, D, d] (with offsets)" : "[D, d] (no offsets)"));
  }
  const int64_t E = stacked ? w_gate.size(0) : 1, D = w_gate.size(lead), d = x.size(1);
  const Shape in_shape = stacked ? Shape{E, D, d} : Shape{D, d};
  const Shape out_shape = stacked ? Shape{E, d, D} : Shape{d, D};
  if (w_gate.shape() != in_shape || w_up.shape() != in_shape || w_down.shape() != out_shape || D < 1 || E < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": expected x [R, d], w_gate [E, D, d], w_up [E, D, d], w_down [E, d, D] (E and offsets dropped for one "
            "expert) with D >= 1, got ",
        describe_args({{"x", &x}, {"w_gate", &w_gate}, {"w_up", &w_up}, {"w_down", &w_down}})));
  }
  if (stacked) {
    if (offsets.device() != x.device()) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": offsets is ", offsets.describe(), ", expected device ",
                                                     x.device().to_string(), " (the rows')"));
    }
    MONE_RETURN_IF_ERROR(check_offsets(op, offsets, E, x.size(0)));
  }
  return cpu::MoneDims{x.size(0), d, D, 0, E};
}

Status check_k_n(const char* op, int64_t k_n, int64_t D, const char* what) {
  if (k_n >= 1 && k_n <= D) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", what, " keeps k_n = ", k_n, " neurons, expected 1 <= k_n <= D = ", D));
}

// The CUDA kernels select by |G| only (the paper's selector); the others run on the CPU.
Status check_cuda_selector(const char* op, const MoneFfnConfig& c) {
  if (c.selector == NeuronSelector::kAbsGate) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrCat(op, ": neuron selector ", neuron_selector_name(c.selector),
                                               " is CPU only; on CUDA the neurons are selected by |G| (abs_gate)"));
}

// The config with the strategy this call runs: kAuto's pick, and masked-dense at K_N = D.
MoneFfnConfig resolved(const MoneFfnConfig& c, const cpu::MoneDims& dims) {
  MoneFfnConfig r = c;
  if (r.strategy == MoneStrategy::kAuto) {
    r.strategy = pick_mone_strategy(dims.rows, dims.experts, dims.D, dims.k_n, c.backward_follows);
  }
  if (dims.k_n >= dims.D) r.strategy = MoneStrategy::kMaskedDense;
  return r;
}

}  // namespace

MoneStrategy pick_mone_strategy(int64_t rows, int64_t experts, int64_t D, int64_t k_n, bool backward_follows) {
  if (k_n >= D || backward_follows) return MoneStrategy::kMaskedDense;
  const int64_t segment_rows_max = 8 * k_n <= D ? 16 : 4 * k_n <= D ? 4 : 0;  // mean rows per expert
  return rows <= segment_rows_max * std::max<int64_t>(experts, 1) ? MoneStrategy::kGathered
                                                                  : MoneStrategy::kMaskedDense;
}

const char* neuron_selector_name(NeuronSelector selector) {
  switch (selector) {
    case NeuronSelector::kAbsGate: return "abs_gate";
    case NeuronSelector::kSignedGate: return "signed_gate";
    case NeuronSelector::kAbsGateTimesUp: return "abs_gate_times_up";
    case NeuronSelector::kAbsGateThreshold: return "abs_gate_threshold";
  }
  return "?";
}

StatusOr<MoneFfnForward> mone_ffn_forward(const Tensor& x_in, const Tensor& offsets_in, const Tensor& wg_in,
                                          const Tensor& wu_in, const Tensor& wd_in, const MoneFfnConfig& config) {
  constexpr const char* op = "mone_ffn_forward";
  MONE_ASSIGN_OR_RETURN(cpu::MoneDims dims, check_experts(op, x_in, offsets_in, wg_in, wu_in, wd_in));
  MONE_RETURN_IF_ERROR(check_k_n(op, config.k_n, dims.D, "the config"));
  dims.k_n = config.k_n;
  const MoneFfnConfig c = resolved(config, dims);
  const Tensor x = x_in.contiguous(), offsets = contiguous_or_undefined(offsets_in);
  const Tensor wg = wg_in.contiguous(), wu = wu_in.contiguous(), wd = wd_in.contiguous();
  const DType dt = x.dtype();
  const Device dev = x.device();
  MoneFfnForward f;
  f.strategy = c.strategy;
  MONE_ASSIGN_OR_RETURN(f.y, new_tensor({dims.rows, dims.d}, dt, dev));
  MONE_ASSIGN_OR_RETURN(f.a, new_tensor({dims.rows, dims.D}, dt, dev));
  MONE_ASSIGN_OR_RETURN(f.g, new_tensor({dims.rows, dims.D}, dt, dev));
  MONE_ASSIGN_OR_RETURN(f.idx, new_tensor({dims.rows, c.k_n}, DType::kI32, dev));
  MONE_ASSIGN_OR_RETURN(f.u, new_tensor({dims.rows, c.k_n}, dt, dev));
  MONE_ASSIGN_OR_RETURN(f.h, new_tensor({dims.rows, c.k_n}, dt, dev));
  switch (dev.type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(dt, op, {
        cpu::mone_ffn_forward<scalar_t>(x.data<scalar_t>(), data_or_null<int64_t>(offsets), wg.data<scalar_t>(),
                                        wu.data<scalar_t>(), wd.data<scalar_t>(), dims, c.act, c.strategy,
                                        c.selector, f.y.data<scalar_t>(), f.a.data<scalar_t>(), f.g.data<scalar_t>(),
                                        f.idx.data<int32_t>(), f.u.data<scalar_t>(), f.h.data<scalar_t>());
      });
      return f;
    case DeviceType::kCUDA:
      MONE_RETURN_IF_ERROR(check_cuda_selector(op, c));
      MONE_RETURN_IF_ERROR(mone_ffn_forward_cuda(x, offsets, wg, wu, wd, dims, c, f));
      return f;
  }
  return f;
}

StatusOr<MoneFfnGrads> mone_ffn_backward(const Tensor& grad_y_in, const Tensor& grad_g_extra_in, const Tensor& x_in,
                                         const Tensor& offsets_in, const Tensor& wg_in, const Tensor& wu_in,
                                         const Tensor& wd_in, const MoneFfnForward& fwd, const MoneFfnConfig& config) {
  constexpr const char* op = "mone_ffn_backward";
  MONE_ASSIGN_OR_RETURN(cpu::MoneDims dims, check_experts(op, x_in, offsets_in, wg_in, wu_in, wd_in));
  MONE_RETURN_IF_ERROR(check_dtype(op, fwd.idx, DType::kI32, "forward.idx"));
  MONE_RETURN_IF_ERROR(check_dim(op, fwd.idx, 2, "forward.idx"));
  dims.k_n = fwd.idx.size(1);
  MONE_RETURN_IF_ERROR(check_k_n(op, dims.k_n, dims.D, "forward.idx"));
  const MoneFfnConfig c = resolved(config, dims);
  const Shape rd{dims.rows, dims.d}, rD{dims.rows, dims.D}, rk{dims.rows, dims.k_n};
  MONE_RETURN_IF_ERROR(check_shape(op, fwd.idx, rk, "forward.idx"));
  MONE_RETURN_IF_ERROR(check_indices(op, fwd.idx, "forward.idx", {dims.D, "D"}));
  MONE_RETURN_IF_ERROR(check_optional(op, grad_y_in, rd, x_in, "grad_y"));
  MONE_RETURN_IF_ERROR(check_optional(op, grad_g_extra_in, rD, x_in, "grad_g_extra"));
  MONE_RETURN_IF_ERROR(check_like(op, fwd.a, rD, x_in, "forward.a"));
  MONE_RETURN_IF_ERROR(check_like(op, fwd.g, rD, x_in, "forward.g"));
  MONE_RETURN_IF_ERROR(check_like(op, fwd.u, rk, x_in, "forward.u"));
  MONE_RETURN_IF_ERROR(check_like(op, fwd.h, rk, x_in, "forward.h"));

  const Tensor x = x_in.contiguous(), offsets = contiguous_or_undefined(offsets_in);
  const Tensor wg = wg_in.contiguous(), wu = wu_in.contiguous(), wd = wd_in.contiguous();
  const Tensor dy = contiguous_or_undefined(grad_y_in), dg_extra = contiguous_or_undefined(grad_g_extra_in);
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
            data_or_null<scalar_t>(dy), data_or_null<scalar_t>(dg_extra), x.data<scalar_t>(),
            data_or_null<int64_t>(offsets), wg.data<scalar_t>(), wu.data<scalar_t>(), wd.data<scalar_t>(),
            a.data<scalar_t>(), g.data<scalar_t>(), idx.data<int32_t>(), u.data<scalar_t>(), h.data<scalar_t>(), dims,
            c.estimator, c.strategy, c.act, c.selector, r.grad_x.data<scalar_t>(), r.grad_w_gate.data<scalar_t>(),
            r.grad_w_up.data<scalar_t>(), r.grad_w_down.data<scalar_t>());
      });
      return r;
    case DeviceType::kCUDA: {
      MONE_RETURN_IF_ERROR(check_cuda_selector(op, c));
      const MoneFfnForward saved{Tensor(), a, g, idx, u, h, fwd.host_offsets};  // the forward's host copy: no second read
      MONE_RETURN_IF_ERROR(mone_ffn_backward_cuda(dy, dg_extra, x, offsets, wg, wu, wd, saved, dims, c, r));
      return r;
    }
  }
  return r;
}

}  // namespace mone::ops

// Definitions and contracts: ops/moe_losses.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R rows grouped by expert.
#include "ops/moe_losses.h"

#include <vector>

#include "cuda/moe_losses.h"
#include "cuda/reduce.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/cpu/moe_losses.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// A float [rows >= 1, cols >= 1] matrix.
Status check_scores(const char* op, const Tensor& t, const char* name) {
  MONE_RETURN_IF_ERROR(check_float_dims(op, t, 2, name));
  if (t.size(0) < 1 || t.size(1) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected at least one row and column"));
  }
  return absl::OkStatus();
}

// counts [E] i64 on probs' device, non-negative and summing to N·K (values checked under the
// index policy of ops/common.h: on the CPU).
Status check_counts(const char* op, const Tensor& counts_in, const Tensor& probs, int64_t k) {
  const int64_t n = probs.size(0), e = probs.size(1);
  MONE_RETURN_IF_ERROR(check_dtype(op, counts_in, DType::kI64, "counts"));
  MONE_RETURN_IF_ERROR(check_shape(op, counts_in, {e}, "counts"));
  if (counts_in.device() != probs.device()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": counts is ", counts_in.describe(), ", expected probs' device"));
  }
  if (k < 1 || k > e) return absl::InvalidArgumentError(absl::StrCat(op, ": k = ", k, ", expected 1 <= k <= E = ", e));
  if (!counts_in.device().is_cpu()) return absl::OkStatus();
  const Tensor counts = counts_in.contiguous();
  int64_t total = 0;
  for (int64_t j = 0; j < e; ++j) {
    const int64_t c = counts.data<int64_t>()[j];
    if (c < 0) return absl::InvalidArgumentError(absl::StrCat(op, ": counts[", j, "] = ", c, " is negative"));
    total += c;
  }
  if (total != n * k) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": counts sum to ", total, ", expected N·K = ", n, "·", k,
                                                   " = ", n * k, " (every token goes to K experts)"));
  }
  return absl::OkStatus();
}

// idx [R, K_N] i32 with ids in [0, D) and offsets [E + 1] (or undefined) over its R rows; returns E.
StatusOr<int64_t> check_selections(const char* op, const Tensor& idx, const Tensor& offsets, int64_t rows,
                                   int64_t D, Device device) {
  MONE_RETURN_IF_ERROR(check_dtype(op, idx, DType::kI32, "idx"));
  MONE_RETURN_IF_ERROR(check_dim(op, idx, 2, "idx"));
  if (idx.size(0) != rows || idx.size(1) < 1 || idx.size(1) > D || idx.device() != device) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": idx is ", idx.describe(), ", expected [R = ", rows,
                                                   ", 1 <= K_N <= D = ", D, "] on ", device.to_string()));
  }
  MONE_RETURN_IF_ERROR(check_indices(op, idx, "idx", {D, "D"}));
  if (!offsets.defined()) return 1;
  MONE_RETURN_IF_ERROR(check_dim(op, offsets, 1, "offsets"));
  const int64_t e = offsets.size(0) - 1;
  if (e < 1 || offsets.device() != device) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": offsets is ", offsets.describe(), ", expected [E + 1 >= 2] on ", device.to_string()));
  }
  MONE_RETURN_IF_ERROR(check_offsets(op, offsets, e, rows));
  return e;
}

// The upstream gradient of a scalar loss: one element of the input's dtype and device.
Status check_loss_grad(const char* op, const Tensor& grad_loss, const Tensor& like) {
  MONE_RETURN_IF_ERROR(check_float(op, grad_loss, "grad_loss"));
  if (grad_loss.numel() != 1 || grad_loss.dtype() != like.dtype() || grad_loss.device() != like.device()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": grad_loss is ", grad_loss.describe(),
                                                   ", expected one element like ", like.describe()));
  }
  return absl::OkStatus();
}

// The offsets of one expert over all R rows, for the CPU kernels ({0, R}).
struct HostOffsets {
  int64_t whole[2];
  const int64_t* get(const Tensor& offsets) const { return offsets.defined() ? offsets.data<int64_t>() : whole; }
};

// On CUDA: loss [] (=) = scale · Σ_t row_terms[t], where fill(row_terms) writes the [rows] per-row
// terms of a loss (cuda/moe_losses.h) in double; the sum is cuda/reduce.h's fixed tree.
template <typename T, class Fill>
Status sum_row_terms(const char* op, int64_t rows, double scale, Device device, Tensor& loss, Fill fill) {
  MONE_ASSIGN_OR_RETURN(Tensor terms, new_tensor({rows}, DType::kF64, device));
  MONE_ASSIGN_OR_RETURN(Tensor partials, new_tensor({cuda::kSumPartials}, DType::kF64, device));
  const cudaStream_t stream = cuda::current_stream();
  MONE_RETURN_IF_ERROR(cuda::to_status(fill(terms.data<double>(), stream), op));
  return cuda::to_status(
      cuda::sum_f64<T>(terms.data<double>(), rows, scale, partials.data<double>(), loss.data<T>(), stream), op);
}

// The neuron counts of a CUDA call into a fresh [E, D] i64 tensor (offsets undefined: E = 1).
StatusOr<Tensor> cuda_neuron_counts(const char* op, const Tensor& idx, const Tensor& offsets, int64_t e, int64_t D) {
  MONE_ASSIGN_OR_RETURN(Tensor counts, new_tensor({e, D}, DType::kI64, idx.device()));
  MONE_RETURN_IF_ERROR(cuda::to_status(cuda::neuron_counts(idx.data<int32_t>(), data_or_null<int64_t>(offsets), e,
                                                           idx.size(0), idx.size(1), D, counts.data<int64_t>(),
                                                           cuda::current_stream()),
                                       op));
  return counts;
}

}  // namespace

StatusOr<Tensor> load_balance_loss(const Tensor& probs_in, const Tensor& counts_in, int64_t k) {
  constexpr const char* op = "load_balance_loss";
  MONE_RETURN_IF_ERROR(check_scores(op, probs_in, "probs"));
  MONE_RETURN_IF_ERROR(check_counts(op, counts_in, probs_in, k));
  const Tensor probs = probs_in.contiguous(), counts = counts_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor loss, new_tensor({}, probs.dtype(), probs.device()));
  switch (probs.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(probs.dtype(), op, {
        cpu::load_balance_loss<scalar_t>(probs.data<scalar_t>(), counts.data<int64_t>(), probs.size(0),
                                         probs.size(1), k, loss.data<scalar_t>());
      });
      return loss;
    case DeviceType::kCUDA: {
      const int64_t n = probs.size(0), e = probs.size(1);
      MONE_DISPATCH_CUDA_FLOAT(probs.dtype(), op, {
        MONE_RETURN_IF_ERROR(sum_row_terms<scalar_t>(
            op, n, static_cast<double>(e) / static_cast<double>(n), probs.device(), loss,
            [&](double* terms, cudaStream_t stream) {
              return cuda::load_balance_rows<scalar_t>(probs.data<scalar_t>(), counts.data<int64_t>(), n, e, k, terms,
                                                       stream);
            }));
      });
      return loss;
    }
  }
  return loss;
}

StatusOr<Tensor> load_balance_loss_backward(const Tensor& grad_loss_in, const Tensor& probs_in,
                                            const Tensor& counts_in, int64_t k) {
  constexpr const char* op = "load_balance_loss_backward";
  MONE_RETURN_IF_ERROR(check_scores(op, probs_in, "probs"));
  MONE_RETURN_IF_ERROR(check_counts(op, counts_in, probs_in, k));
  MONE_RETURN_IF_ERROR(check_loss_grad(op, grad_loss_in, probs_in));
  const Tensor probs = probs_in.contiguous(), counts = counts_in.contiguous(), grad_loss = grad_loss_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(probs.shape(), probs.dtype(), probs.device()));
  switch (probs.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(probs.dtype(), op, {
        cpu::load_balance_loss_backward<scalar_t>(grad_loss.data<scalar_t>(), probs.data<scalar_t>(),
                                                  counts.data<int64_t>(), probs.size(0), probs.size(1), k,
                                                  out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(probs.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::load_balance_backward<scalar_t>(grad_loss.data<scalar_t>(), probs.data<scalar_t>(),
                                                  counts.data<int64_t>(), probs.size(0), probs.size(1), k,
                                                  out.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return out;
  }
  return out;
}

StatusOr<Tensor> z_loss(const Tensor& logits_in) {
  constexpr const char* op = "z_loss";
  MONE_RETURN_IF_ERROR(check_scores(op, logits_in, "logits"));
  const Tensor logits = logits_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor loss, new_tensor({}, logits.dtype(), logits.device()));
  switch (logits.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(logits.dtype(), op, {
        cpu::z_loss<scalar_t>(logits.data<scalar_t>(), logits.size(0), logits.size(1), loss.data<scalar_t>());
      });
      return loss;
    case DeviceType::kCUDA: {
      const int64_t n = logits.size(0), e = logits.size(1);
      MONE_DISPATCH_CUDA_FLOAT(logits.dtype(), op, {
        MONE_RETURN_IF_ERROR(sum_row_terms<scalar_t>(op, n, 1.0 / static_cast<double>(n), logits.device(), loss,
                                                     [&](double* terms, cudaStream_t stream) {
                                                       return cuda::z_loss_rows<scalar_t>(logits.data<scalar_t>(), n,
                                                                                          e, terms, stream);
                                                     }));
      });
      return loss;
    }
  }
  return loss;
}

StatusOr<Tensor> z_loss_backward(const Tensor& grad_loss_in, const Tensor& logits_in) {
  constexpr const char* op = "z_loss_backward";
  MONE_RETURN_IF_ERROR(check_scores(op, logits_in, "logits"));
  MONE_RETURN_IF_ERROR(check_loss_grad(op, grad_loss_in, logits_in));
  const Tensor logits = logits_in.contiguous(), grad_loss = grad_loss_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(logits.shape(), logits.dtype(), logits.device()));
  switch (logits.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(logits.dtype(), op, {
        cpu::z_loss_backward<scalar_t>(grad_loss.data<scalar_t>(), logits.data<scalar_t>(), logits.size(0),
                                       logits.size(1), out.data<scalar_t>());
      });
      return out;
    case DeviceType::kCUDA:
      MONE_DISPATCH_CUDA_FLOAT(logits.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::z_loss_backward<scalar_t>(grad_loss.data<scalar_t>(), logits.data<scalar_t>(), logits.size(0),
                                            logits.size(1), out.data<scalar_t>(), cuda::current_stream()),
            op));
      });
      return out;
  }
  return out;
}

StatusOr<Tensor> neuron_balance_loss(const Tensor& g_in, const Tensor& idx_in, const Tensor& offsets_in,
                                     NeuronLossForm form) {
  constexpr const char* op = "neuron_balance_loss";
  MONE_RETURN_IF_ERROR(check_float_dims(op, g_in, 2, "g"));
  MONE_ASSIGN_OR_RETURN(const int64_t e,
                        check_selections(op, idx_in, offsets_in, g_in.size(0), g_in.size(1), g_in.device()));
  const Tensor g = g_in.contiguous(), idx = idx_in.contiguous(), offsets = contiguous_or_undefined(offsets_in);
  MONE_ASSIGN_OR_RETURN(Tensor loss, new_tensor({}, g.dtype(), g.device()));
  switch (g.device().type) {
    case DeviceType::kCPU: {
      const HostOffsets whole{{0, g.size(0)}};
      MONE_DISPATCH_FLOAT(g.dtype(), op, {
        cpu::neuron_balance_loss<scalar_t>(g.data<scalar_t>(), idx.data<int32_t>(), whole.get(offsets), e, g.size(1),
                                           idx.size(1), form, loss.data<scalar_t>());
      });
      return loss;
    }
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(const Tensor counts, cuda_neuron_counts(op, idx, offsets, e, g.size(1)));
      MONE_DISPATCH_CUDA_FLOAT(g.dtype(), op, {
        MONE_RETURN_IF_ERROR(sum_row_terms<scalar_t>(op, g.size(0), 1.0, g.device(), loss,
                                                     [&](double* terms, cudaStream_t stream) {
                                                       return cuda::neuron_balance_rows<scalar_t>(
                                                           g.data<scalar_t>(), counts.data<int64_t>(),
                                                           data_or_null<int64_t>(offsets), e, g.size(0), g.size(1),
                                                           idx.size(1), form, terms, stream);
                                                     }));
      });
      return loss;
    }
  }
  return loss;
}

StatusOr<Tensor> neuron_balance_loss_backward(const Tensor& grad_loss_in, const Tensor& g_in, const Tensor& idx_in,
                                              const Tensor& offsets_in, NeuronLossForm form) {
  constexpr const char* op = "neuron_balance_loss_backward";
  MONE_RETURN_IF_ERROR(check_float_dims(op, g_in, 2, "g"));
  MONE_ASSIGN_OR_RETURN(const int64_t e,
                        check_selections(op, idx_in, offsets_in, g_in.size(0), g_in.size(1), g_in.device()));
  MONE_RETURN_IF_ERROR(check_loss_grad(op, grad_loss_in, g_in));
  const Tensor g = g_in.contiguous(), idx = idx_in.contiguous(), offsets = contiguous_or_undefined(offsets_in);
  const Tensor grad_loss = grad_loss_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(g.shape(), g.dtype(), g.device()));
  switch (g.device().type) {
    case DeviceType::kCPU: {
      const HostOffsets whole{{0, g.size(0)}};
      MONE_DISPATCH_FLOAT(g.dtype(), op, {
        cpu::neuron_balance_loss_backward<scalar_t>(grad_loss.data<scalar_t>(), g.data<scalar_t>(),
                                                    idx.data<int32_t>(), whole.get(offsets), e, g.size(1),
                                                    idx.size(1), form, out.data<scalar_t>());
      });
      return out;
    }
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(const Tensor counts, cuda_neuron_counts(op, idx, offsets, e, g.size(1)));
      MONE_DISPATCH_CUDA_FLOAT(g.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::neuron_balance_backward<scalar_t>(grad_loss.data<scalar_t>(), g.data<scalar_t>(),
                                                    counts.data<int64_t>(), data_or_null<int64_t>(offsets), e,
                                                    g.size(0), g.size(1), idx.size(1), form, out.data<scalar_t>(),
                                                    cuda::current_stream()),
            op));
      });
      return out;
    }
  }
  return out;
}

StatusOr<Tensor> neuron_counts(const Tensor& idx_in, const Tensor& offsets_in, int64_t D) {
  constexpr const char* op = "neuron_counts";
  if (D < 1) return absl::InvalidArgumentError(absl::StrCat(op, ": D = ", D, ", expected >= 1"));
  MONE_RETURN_IF_ERROR(check_dim(op, idx_in, 2, "idx"));
  MONE_ASSIGN_OR_RETURN(const int64_t e,
                        check_selections(op, idx_in, offsets_in, idx_in.size(0), D, idx_in.device()));
  const Tensor idx = idx_in.contiguous(), offsets = contiguous_or_undefined(offsets_in);
  MONE_ASSIGN_OR_RETURN(Tensor counts, new_tensor({e, D}, DType::kI64, idx.device()));
  switch (idx.device().type) {
    case DeviceType::kCPU: {
      const HostOffsets whole{{0, idx.size(0)}};
      cpu::neuron_counts(idx.data<int32_t>(), whole.get(offsets), e, idx.size(1), D, counts.data<int64_t>());
      return counts;
    }
    case DeviceType::kCUDA:
      return cuda_neuron_counts(op, idx, offsets, e, D);
  }
  return counts;
}

}  // namespace mone::ops

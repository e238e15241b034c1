// Definitions and contracts: ops/moe_losses.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/moe_losses.h"

#include <vector>

#include "ops/cpu/moe_losses.h"
#include "ops/moe_common.h"

namespace mone::ops {

namespace {

// Reads element i of an i32 or i64 CPU tensor.
int64_t index_at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kI32 ? t.data<int32_t>()[i] : t.data<int64_t>()[i];
}

// A float [rows >= 1, cols >= 1] matrix on the CPU.
Status check_scores(const char* op, const Tensor& t, const char* name) {
  MONE_RETURN_IF_ERROR(check_float_dims(op, t, 2, name));
  if (t.size(0) < 1 || t.size(1) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " is ", t.describe(), ", expected at least one row and column"));
  }
  if (!t.device().is_cpu()) return unsupported_device(op, t.device());
  return absl::OkStatus();
}

// f_e = counts_e / (N·K); counts [E] must be non-negative and sum to N·K.
StatusOr<std::vector<double>> expert_fractions(const char* op, const Tensor& counts_in, int64_t n, int64_t e,
                                               int64_t k) {
  MONE_RETURN_IF_ERROR(check_index_dtype(op, counts_in, "counts"));
  MONE_RETURN_IF_ERROR(check_shape(op, counts_in, {e}, "counts"));
  if (k < 1 || k > e) return absl::InvalidArgumentError(absl::StrCat(op, ": k = ", k, ", expected 1 <= k <= E = ", e));
  const Tensor counts = counts_in.contiguous();
  std::vector<double> f(e);
  int64_t total = 0;
  for (int64_t j = 0; j < e; ++j) {
    const int64_t c = index_at(counts, j);
    if (c < 0) return absl::InvalidArgumentError(absl::StrCat(op, ": counts[", j, "] = ", c, " is negative"));
    total += c;
    f[j] = static_cast<double>(c) / static_cast<double>(n * k);
  }
  if (total != n * k) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": counts sum to ", total, ", expected N·K = ", n, "·", k,
                                                   " = ", n * k, " (every token goes to K experts)"));
  }
  return f;
}

// F_j = (times j appears in idx) / (T·K_N); idx [T, K_N] with ids in [0, D).
StatusOr<std::vector<double>> neuron_fractions(const char* op, const Tensor& idx_in, int64_t t, int64_t d_expert) {
  MONE_RETURN_IF_ERROR(check_index_dtype(op, idx_in, "idx"));
  MONE_RETURN_IF_ERROR(check_dim(op, idx_in, 2, "idx"));
  if (idx_in.size(0) != t || idx_in.size(1) < 1 || idx_in.size(1) > d_expert) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": idx is ", idx_in.describe(), ", expected [T = ", t, ", 1 <= K_N <= D = ", d_expert, "]"));
  }
  MONE_RETURN_IF_ERROR(check_ids_in_range(op, idx_in, d_expert, "idx"));
  const Tensor idx = idx_in.contiguous();
  std::vector<double> f(d_expert, 0.0);
  const double per = 1.0 / static_cast<double>(idx.numel());
  for (int64_t i = 0; i < idx.numel(); ++i) f[index_at(idx, i)] += per;
  return f;
}

// The upstream gradient of a scalar loss: one element, the input's dtype.
StatusOr<double> loss_grad(const char* op, const Tensor& grad_loss, const Tensor& like) {
  MONE_RETURN_IF_ERROR(check_float(op, grad_loss, "grad_loss"));
  if (grad_loss.numel() != 1 || grad_loss.dtype() != like.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": grad_loss is ", grad_loss.describe(),
                                                   ", expected one element of dtype ", dtype_name(like.dtype())));
  }
  return grad_loss.item();
}

// The balance form (see cpu::balance_loss) of scores [rows, cols] with fixed fractions F.
StatusOr<Tensor> balance_forward(const char* op, const Tensor& scores_in, const std::vector<double>& f,
                                 NeuronLossForm form) {
  const Tensor scores = scores_in.contiguous();
  MONE_DISPATCH_FLOAT(scores.dtype(), op, {
    return Tensor::scalar<scalar_t>(static_cast<scalar_t>(
        cpu::balance_loss(scores.data<scalar_t>(), f.data(), scores.size(0), scores.size(1), form)));
  });
  return Tensor();
}

StatusOr<Tensor> balance_backward(const char* op, const Tensor& grad_loss, const Tensor& scores_in,
                                  const std::vector<double>& f, NeuronLossForm form) {
  MONE_ASSIGN_OR_RETURN(double grad, loss_grad(op, grad_loss, scores_in));
  const Tensor scores = scores_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(scores.shape(), scores.dtype(), scores.device()));
  MONE_DISPATCH_FLOAT(scores.dtype(), op, {
    cpu::balance_loss_backward<scalar_t>(grad, scores.data<scalar_t>(), f.data(), scores.size(0), scores.size(1),
                                         form, out.data<scalar_t>());
  });
  return out;
}

}  // namespace

// L_aux is the balance form over experts with q = p (probs are ≥ 0, so the raw form's |p| is p).
StatusOr<Tensor> load_balance_loss(const Tensor& probs, const Tensor& counts, int64_t k) {
  constexpr const char* op = "load_balance_loss";
  MONE_RETURN_IF_ERROR(check_scores(op, probs, "probs"));
  MONE_ASSIGN_OR_RETURN(std::vector<double> f, expert_fractions(op, counts, probs.size(0), probs.size(1), k));
  return balance_forward(op, probs, f, NeuronLossForm::kRaw);
}

StatusOr<Tensor> load_balance_loss_backward(const Tensor& grad_loss, const Tensor& probs, const Tensor& counts,
                                            int64_t k) {
  constexpr const char* op = "load_balance_loss_backward";
  MONE_RETURN_IF_ERROR(check_scores(op, probs, "probs"));
  MONE_ASSIGN_OR_RETURN(std::vector<double> f, expert_fractions(op, counts, probs.size(0), probs.size(1), k));
  // d|p|/dp = sign(p) = 1, except where p underflowed to 0, and there softmax's backward
  // multiplies by p = 0 anyway.
  return balance_backward(op, grad_loss, probs, f, NeuronLossForm::kRaw);
}

StatusOr<Tensor> z_loss(const Tensor& logits_in) {
  constexpr const char* op = "z_loss";
  MONE_RETURN_IF_ERROR(check_scores(op, logits_in, "logits"));
  const Tensor logits = logits_in.contiguous();
  MONE_DISPATCH_FLOAT(logits.dtype(), op, {
    return Tensor::scalar<scalar_t>(
        static_cast<scalar_t>(cpu::z_loss(logits.data<scalar_t>(), logits.size(0), logits.size(1))));
  });
  return Tensor();
}

StatusOr<Tensor> z_loss_backward(const Tensor& grad_loss, const Tensor& logits_in) {
  constexpr const char* op = "z_loss_backward";
  MONE_RETURN_IF_ERROR(check_scores(op, logits_in, "logits"));
  MONE_ASSIGN_OR_RETURN(double grad, loss_grad(op, grad_loss, logits_in));
  const Tensor logits = logits_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(logits.shape(), logits.dtype(), logits.device()));
  MONE_DISPATCH_FLOAT(logits.dtype(), op, {
    cpu::z_loss_backward<scalar_t>(grad, logits.data<scalar_t>(), logits.size(0), logits.size(1),
                                   out.data<scalar_t>());
  });
  return out;
}

StatusOr<Tensor> neuron_balance_loss(const Tensor& g, const Tensor& idx, NeuronLossForm form) {
  constexpr const char* op = "neuron_balance_loss";
  MONE_RETURN_IF_ERROR(check_scores(op, g, "g"));
  MONE_ASSIGN_OR_RETURN(std::vector<double> f, neuron_fractions(op, idx, g.size(0), g.size(1)));
  return balance_forward(op, g, f, form);
}

StatusOr<Tensor> neuron_balance_loss_backward(const Tensor& grad_loss, const Tensor& g, const Tensor& idx,
                                              NeuronLossForm form) {
  constexpr const char* op = "neuron_balance_loss_backward";
  MONE_RETURN_IF_ERROR(check_scores(op, g, "g"));
  MONE_ASSIGN_OR_RETURN(std::vector<double> f, neuron_fractions(op, idx, g.size(0), g.size(1)));
  return balance_backward(op, grad_loss, g, f, form);
}

}  // namespace mone::ops

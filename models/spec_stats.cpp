// Parameter, FLOP and memory arithmetic for a ModelSpec; the formulas are in spec_stats.h.
#include "models/spec_stats.h"

#include <cmath>

#include "models/spec.h"

namespace mone::models {
namespace {

using proto::ModelSpec;

// Weights one token touches in one shared expert: all of it, or (sparsified) the full gate and
// K_N rows/columns of up and down.
int64_t shared_active_per_expert(const ModelSpec& s) {
  const int64_t d = s.hidden_size(), w = shared_expert_width(s);
  return d * w + 2 * d * shared_expert_neuron_topk(s);
}

// Weights one token touches in one routed expert: d·D + 2·d·K_N.
int64_t routed_active_per_slot(const ModelSpec& s) {
  const int64_t d = s.hidden_size();
  return d * s.moe_intermediate_size() + 2 * d * effective_neuron_topk(s);
}

// Activated matmul weights M (lm_head included, norms and embedding lookup excluded).
int64_t activated_matmul_params(const ModelSpec& s) {
  const ParamBreakdown p = count_params(s);
  int64_t m = p.attention + p.router + p.dense_ffn + s.vocab_size() * s.hidden_size();
  if (has_experts(s)) {
    m += num_moe_layers(s) * (s.num_experts_per_tok() * routed_active_per_slot(s) +
                              s.num_shared_experts() * shared_active_per_expert(s));
  }
  return m;
}

// One training step's bytes: P parameters, `activations` elements; see the header for the rule.
MemoryEstimate memory_estimate(int64_t params, double activations, bool bf16) {
  const double P = static_cast<double>(params);
  MemoryEstimate m;
  m.weights = bf16 ? 6 * P : 4 * P;  // bf16: f32 master weights + a bf16 working copy
  m.grads = 4 * P;                   // f32 in both (bf16 accumulates into f32)
  m.optimizer = 8 * P;               // AdamW m and v in f32
  m.activations = (bf16 ? 2 : 4) * activations;
  return m;
}

// printf of `value` with five significant digits and `suffix`, or "" when %g would switch to
// exponent notation (the caller then tries the next larger unit).
std::string five_digits(double value, const char* suffix) {
  std::string s = absl::StrFormat("%.5g", value);
  if (s.find('e') != std::string::npos) return "";
  return s + suffix;
}

}  // namespace

int64_t ParamBreakdown::total() const {
  return embed_tokens + lm_head + attention + norms + router + routed_experts + shared_experts +
         dense_ffn;
}

ParamBreakdown count_params(const ModelSpec& s) {
  const int64_t V = s.vocab_size(), d = s.hidden_size(), L = s.num_hidden_layers();
  const int64_t kv_width = num_kv_heads(s) * head_dim(s);
  ParamBreakdown p;
  p.embed_tokens = V * d;
  p.lm_head = s.tie_word_embeddings() ? 0 : V * d;
  p.attention = L * (2 * d * d + 2 * d * kv_width);
  if (s.attention_qkv_bias()) p.attention += L * (d + 2 * kv_width);
  if (s.attention_output_bias()) p.attention += L * d;
  p.norms = L * 2 * d + d;
  if (s.qk_norm()) p.norms += L * (d + kv_width);
  const int64_t L_moe = num_moe_layers(s);
  if (has_experts(s)) {
    p.router = L_moe * (s.num_experts() + (s.shared_expert_gate() ? 1 : 0)) * d;
    p.routed_experts = L_moe * s.num_experts() * 3 * d * s.moe_intermediate_size();
    p.shared_experts = L_moe * s.num_shared_experts() * 3 * d * shared_expert_width(s);
  }
  p.dense_ffn = (L - L_moe) * 3 * d * s.intermediate_size();
  return p;
}

int64_t count_activated_params(const ModelSpec& s) {
  const ParamBreakdown p = count_params(s);
  return activated_matmul_params(s) - s.vocab_size() * s.hidden_size() + p.embed_tokens +
         p.lm_head + p.norms;
}

double straight_through_flops_per_token(const ModelSpec& s) {
  if (s.ffn_type() != ModelSpec::MONE || s.neuron_topk_backward() != ModelSpec::STRAIGHT_THROUGH) return 0.0;
  // Only the MoE layers (decoder_sparse_step / mlp_only_layers may leave some dense).
  const double d = s.hidden_size(), L = num_moe_layers(s), kn = effective_neuron_topk(s);
  double flops = 8.0 * d * (s.moe_intermediate_size() - kn) * s.num_experts_per_tok() * L;
  flops += 8.0 * d * (shared_expert_width(s) - shared_expert_neuron_topk(s)) * s.num_shared_experts() * L;
  return flops;
}

double training_flops_per_token(const ModelSpec& s, int64_t seq_len) {
  const double d = s.hidden_size(), L = s.num_hidden_layers(), T = seq_len;
  double flops = 6.0 * activated_matmul_params(s) + 6.0 * L * T * d + straight_through_flops_per_token(s);
  if (s.ffn_type() == ModelSpec::MONE && s.neuron_selector() == ModelSpec::ABS_GATE_TIMES_UP) {
    // The selection's dense up projection W_up x (forward only: the selection has no gradient).
    flops += 2.0 * d * s.moe_intermediate_size() * s.num_experts_per_tok() * num_moe_layers(s);
  }
  return flops;
}

double activation_elements_per_token(const ModelSpec& s) {
  const double d = s.hidden_size(), V = s.vocab_size();
  const double kv_width = num_kv_heads(s) * head_dim(s);
  double layer = 4 * d + 2 * kv_width + s.num_attention_heads()  // attention block
                 + 2 * d;                                        // ffn input and its norm
  if (s.qk_norm()) layer += d + kv_width;
  if (s.clip_qkv() > 0) layer += d + 2 * kv_width;
  double moe = 0;
  if (has_experts(s)) {
    const double D = s.moe_intermediate_size();
    // AUTO runs masked-dense on training batches (pick_mone_strategy), which these counts are for.
    const bool gathered =
        s.ffn_type() == ModelSpec::MONE && s.mone_strategy() == ModelSpec::GATHERED;
    const double n = gathered ? effective_neuron_topk(s) : D;
    const double Ds = shared_expert_width(s), ns = shared_expert_neuron_topk(s);
    moe = 2.0 * s.num_experts() + s.num_experts_per_tok() * (2 * d + 2 * D + 2 * n) +
          s.num_shared_experts() * (2 * Ds + 2 * ns) + (s.shared_expert_gate() ? 2 * d + 1 : 0);
  }
  const double dense = 4.0 * s.intermediate_size();
  return s.num_hidden_layers() * layer + num_moe_layers(s) * moe + num_dense_layers(s) * dense + 2 * d + 2 * V;
}

StatusOr<SpecStats> compute_spec_stats(const ModelSpec& spec, int64_t batch_size, int64_t seq_len) {
  MONE_RETURN_IF_ERROR(validate_model_spec(spec, spec.name().empty() ? "model spec" : spec.name()));
  if (batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("batch size ", batch_size, " must be >= 1"));
  }
  if (seq_len < 1 || seq_len > spec.max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sequence length ", seq_len,
        " must be in [1, max_position_embeddings = ", spec.max_position_embeddings(), "]"));
  }
  SpecStats st;
  st.params = count_params(spec);
  st.total_params = st.params.total();
  st.embedding_params = st.params.embed_tokens + st.params.lm_head;
  st.activated_params = count_activated_params(spec);
  st.activated_params_non_embedding = st.activated_params - st.embedding_params;
  st.activated_matmul_params = activated_matmul_params(spec);
  st.batch_size = batch_size;
  st.seq_len = seq_len;
  st.training_flops_per_token = training_flops_per_token(spec, seq_len);
  st.straight_through_flops_per_token = straight_through_flops_per_token(spec);
  st.activation_elements_per_token = activation_elements_per_token(spec);
  const double activations = st.activation_elements_per_token * batch_size * seq_len;
  st.memory_f32 = memory_estimate(st.total_params, activations, /*bf16=*/false);
  st.memory_bf16 = memory_estimate(st.total_params, activations, /*bf16=*/true);
  return st;
}

std::string format_param_count(int64_t count) {
  const double n = static_cast<double>(count);
  if (std::abs(n) < 1e3) return absl::StrCat(count);
  // Millions go up to 1e11 so paper-scale sizes read as "2815.1M", like the paper's table.
  if (std::abs(n) < 1e6) {
    if (std::string s = five_digits(n / 1e3, "K"); !s.empty()) return s;
  }
  if (std::abs(n) < 1e11) {
    if (std::string s = five_digits(n / 1e6, "M"); !s.empty()) return s;
  }
  if (std::string s = five_digits(n / 1e9, "B"); !s.empty()) return s;
  return absl::StrFormat("%.0fB", n / 1e9);
}

std::string format_bytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (std::abs(bytes) >= 1024 && unit < 5) {
    bytes /= 1024;
    ++unit;
  }
  if (unit == 0) return absl::StrFormat("%.0f B", bytes);
  return absl::StrFormat("%.2f %s", bytes, kUnits[unit]);
}

std::string format_flops(double flops) {
  static const char* kUnits[] = {"", "K", "M", "G", "T", "P", "E"};
  int unit = 0;
  while (std::abs(flops) >= 999.5 && unit < 6) {  // %.3g of 999.5 would print "1e+03"
    flops /= 1000;
    ++unit;
  }
  return absl::StrFormat("%.3g %sFLOP", flops, kUnits[unit]);
}

}  // namespace mone::models

// mone inspect SPEC [--json] [--batch-size B] [--seq-len T]
//
// Loads and validates a ModelSpec and prints what the model costs: parameters (total, by
// component, activated per token), training FLOPs per token, and the memory of one training step
// in f32 and bf16. The formulas live in models/spec_stats.h and docs/SPECS.md.
#include <cctype>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "models/spec.h"
#include "models/spec_stats.h"

namespace mone::cli {
namespace {

using models::format_bytes;
using models::format_flops;
using models::format_param_count;
using proto::ModelSpec;

struct InspectOptions {
  std::string spec_path;
  bool json = false;
  int64_t batch_size = 1;
  int64_t seq_len = 0;  // 0: the spec's max_position_embeddings
};

nlohmann::json memory_json(const models::MemoryEstimate& m) {
  return {{"weights", m.weights},
          {"grads", m.grads},
          {"optimizer", m.optimizer},
          {"activations", m.activations},
          {"total", m.total()}};
}

nlohmann::json stats_json(const std::string& path, const ModelSpec& spec,
                          const models::SpecStats& st) {
  const models::ParamBreakdown& p = st.params;
  return {
      {"spec", path},
      {"name", spec.name()},
      {"ffn_type", models::lower_case(ModelSpec::FfnType_Name(spec.ffn_type()))},
      {"neuron_topk", models::effective_neuron_topk(spec)},
      {"total_params", st.total_params},
      {"embedding_params", st.embedding_params},
      {"activated_params", st.activated_params},
      {"activated_params_non_embedding", st.activated_params_non_embedding},
      {"activated_matmul_params", st.activated_matmul_params},
      {"params",
       {{"embed_tokens", p.embed_tokens},
        {"lm_head", p.lm_head},
        {"attention", p.attention},
        {"norms", p.norms},
        {"router", p.router},
        {"routed_experts", p.routed_experts},
        {"shared_experts", p.shared_experts},
        {"dense_ffn", p.dense_ffn}}},
      {"batch_size", st.batch_size},
      {"seq_len", st.seq_len},
      {"training_flops_per_token", st.training_flops_per_token},
      {"straight_through_flops_per_token", st.straight_through_flops_per_token},
      {"training_flops_per_step", st.training_flops_per_token * static_cast<double>(st.batch_size) *
                                      static_cast<double>(st.seq_len)},
      {"activation_elements_per_token", st.activation_elements_per_token},
      {"memory_bytes",
       {{"f32", memory_json(st.memory_f32)}, {"bf16", memory_json(st.memory_bf16)}}},
  };
}

// One line describing the architecture, e.g. "MONE: 16 experts, K = 2, D = 576, K_N = 144 ...".
std::string ffn_summary(const ModelSpec& s) {
  if (s.ffn_type() == ModelSpec::DENSE) {
    return absl::StrCat("DENSE SwiGLU, width ", s.intermediate_size());
  }
  std::string out =
      absl::StrCat(ModelSpec::FfnType_Name(s.ffn_type()), ": ", s.num_experts(),
                   " experts, K = ", s.num_experts_per_tok(), ", D = ", s.moe_intermediate_size());
  if (s.ffn_type() == ModelSpec::MONE) {
    absl::StrAppend(&out, ", K_N = ", models::effective_neuron_topk(s), " (",
                    ModelSpec::NeuronTopkBackward_Name(s.neuron_topk_backward()), ", ",
                    ModelSpec::MoneStrategy_Name(s.mone_strategy()), ")");
  }
  if (s.num_shared_experts() > 0) {
    absl::StrAppend(&out, ", ", s.num_shared_experts(), " shared expert(s) of width ",
                    models::shared_expert_width(s),
                    s.sparsify_shared_expert() ? " (sparsified)" : "");
  }
  return out;
}

void print_count(const char* label, int64_t n) {
  std::printf("  %-36s %12s %15lld\n", label, format_param_count(n).c_str(),
              static_cast<long long>(n));
}

void print_memory_row(const char* label, double f32, double bf16) {
  std::printf("  %-36s %12s %15s\n", label, format_bytes(f32).c_str(), format_bytes(bf16).c_str());
}

void print_table(const std::string& path, const ModelSpec& spec, const models::SpecStats& st) {
  const models::ParamBreakdown& p = st.params;
  std::printf("%s  (%s)\n", spec.name().empty() ? "model" : spec.name().c_str(), path.c_str());
  std::printf(
      "  %lld layers, d = %lld, %lld heads (%lld kv, head_dim %lld), vocab %lld, %s\n",
      static_cast<long long>(spec.num_hidden_layers()), static_cast<long long>(spec.hidden_size()),
      static_cast<long long>(spec.num_attention_heads()),
      static_cast<long long>(models::num_kv_heads(spec)),
      static_cast<long long>(models::head_dim(spec)), static_cast<long long>(spec.vocab_size()),
      spec.tie_word_embeddings() ? "tied embeddings" : "untied embeddings");
  std::printf("  ffn %s\n\n", ffn_summary(spec).c_str());

  std::printf("  %-36s %12s %15s\n", "Parameters", "", "exact");
  print_count("total", st.total_params);
  print_count("  embed_tokens", p.embed_tokens);
  if (p.lm_head > 0) print_count("  lm_head", p.lm_head);
  print_count("  attention (q, k, v, o)", p.attention);
  print_count("  RMSNorm weights", p.norms);
  if (models::has_experts(spec)) {
    print_count("  routers", p.router);
    print_count("  routed experts", p.routed_experts);
    if (p.shared_experts > 0) print_count("  shared experts", p.shared_experts);
  } else {
    print_count("  dense ffn", p.dense_ffn);
  }
  print_count("embedding (embed_tokens + lm_head)", st.embedding_params);
  print_count("activated per token", st.activated_params);
  print_count("activated per token, no embeddings", st.activated_params_non_embedding);

  const double tokens = static_cast<double>(st.batch_size) * static_cast<double>(st.seq_len);
  std::printf("\n  Training step: batch %lld x sequence %lld = %.0f tokens\n",
              static_cast<long long>(st.batch_size), static_cast<long long>(st.seq_len), tokens);
  std::printf("  %-36s %12s   = 6 x %s matmul weights + 6·L·T·d attention", "FLOPs per token",
              format_flops(st.training_flops_per_token).c_str(),
              format_param_count(st.activated_matmul_params).c_str());
  if (st.straight_through_flops_per_token > 0) {
    std::printf("\n  %-36s %12s   + %s straight-through (dense up projection and neuron gradients)", "", "",
                format_flops(st.straight_through_flops_per_token).c_str());
  }
  std::printf("\n");
  std::printf("  %-36s %12s\n\n", "FLOPs per step",
              format_flops(st.training_flops_per_token * tokens).c_str());

  std::printf("  %-36s %12s %15s\n", "Memory per training step", "f32", "bf16 mixed");
  print_memory_row("weights", st.memory_f32.weights, st.memory_bf16.weights);
  print_memory_row("grads", st.memory_f32.grads, st.memory_bf16.grads);
  print_memory_row("AdamW m and v", st.memory_f32.optimizer, st.memory_bf16.optimizer);
  print_memory_row("activations", st.memory_f32.activations, st.memory_bf16.activations);
  print_memory_row("total", st.memory_f32.total(), st.memory_bf16.total());
}

Status run_inspect(const InspectOptions& opt) {
  MONE_ASSIGN_OR_RETURN(ModelSpec spec, models::load_model_spec(opt.spec_path));
  const int64_t seq_len = opt.seq_len > 0 ? opt.seq_len : spec.max_position_embeddings();
  auto stats = models::compute_spec_stats(spec, opt.batch_size, seq_len);
  if (!stats.ok()) {
    return Status(stats.status().code(),
                  absl::StrCat(opt.spec_path, ": ", stats.status().message()));
  }
  if (opt.json) {
    std::printf("%s\n", stats_json(opt.spec_path, spec, *stats).dump(2).c_str());
  } else {
    print_table(opt.spec_path, spec, *stats);
  }
  return absl::OkStatus();
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Validate a model spec and print its parameters, FLOPs and training memory");
  cmd->footer(
      "Loads a ModelSpec textproto (any error names the file, the field and the value) and "
      "prints:\n"
      "  parameters: total, by component, embeddings (embed_tokens + lm_head), and activated per\n"
      "    token with and without embeddings (a routed expert touches d·D + 2·d·K_N weights);\n"
      "  training FLOPs per token: 6 x activated matmul weights (lm_head included) + 6·L·T·d\n"
      "    for causal attention;\n"
      "  memory of one training step at --batch-size x --seq-len: weights, grads, AdamW m and v,\n"
      "    and saved activations, in f32 and in bf16 mixed precision (f32 master weights).\n"
      "Formulas: docs/SPECS.md. Example:\n"
      "  mone inspect configs/models/mone_925m.textproto --batch-size 8 --json");
  cmd->add_option("spec", opt->spec_path,
                  "Model spec textproto, e.g. configs/models/mone_925m.textproto")
      ->required();
  cmd->add_flag("--json", opt->json,
                "Print one JSON object (exact numbers, bytes) instead of a table");
  cmd->add_option("--batch-size,-b", opt->batch_size,
                  "Sequences per training step, for FLOPs and memory")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_option("--seq-len,-t", opt->seq_len,
                  "Tokens per sequence (default: the spec's max_position_embeddings)")
      ->check(at_least(1));
  set_command_action(cmd, [opt] { return run_inspect(*opt); });
}

}  // namespace mone::cli

#include "train/hf_config.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_join.h"
#include "models/spec.h"
#include "train/model_config.h"

namespace mone::train {
namespace {

using Json = nlohmann::json;
using proto::ModelSpec;

struct ArchitectureNames {
  HfArchitecture arch;
  const char* class_name;
  const char* model_type;
};
constexpr ArchitectureNames kArchitectures[] = {
    {HfArchitecture::kMixtral, "MixtralForCausalLM", "mixtral"},
    {HfArchitecture::kQwen2Moe, "Qwen2MoeForCausalLM", "qwen2_moe"},
    {HfArchitecture::kOlmoe, "OlmoeForCausalLM", "olmoe"},
};

// PretrainedConfig's generic keys (transformers 4.45.2): token ids, generation and pipeline
// settings that do not change the logits. tie_word_embeddings and the encoder-decoder keys are
// read separately.
const std::set<std::string>& generic_keys() {
  static const std::set<std::string> keys = {
      "_name_or_path", "architectures", "bad_words_ids", "begin_suppress_tokens", "bos_token_id",
      "chunk_size_feed_forward", "decoder_start_token_id", "diversity_penalty", "do_sample", "early_stopping",
      "encoder_no_repeat_ngram_size", "eos_token_id", "exponential_decay_length_penalty", "finetuning_task",
      "forced_bos_token_id", "forced_eos_token_id", "id2label", "is_decoder", "label2id", "length_penalty",
      "max_length", "min_length", "model_type", "no_repeat_ngram_size", "num_beam_groups", "num_beams",
      "num_return_sequences", "output_attentions", "output_hidden_states", "output_scores", "pad_token_id",
      "prefix", "problem_type", "remove_invalid_values", "repetition_penalty", "return_dict",
      "return_dict_in_generate", "sep_token_id", "suppress_tokens", "task_specific_params", "temperature",
      "tf_legacy_loss", "tokenizer_class", "top_k", "top_p", "torch_dtype", "dtype", "torchscript",
      "transformers_version", "typical_p", "use_bfloat16", "use_cache", "output_router_logits",
      "cross_attention_hidden_size"};
  return keys;
}

// mone's own keys that a transformers config may carry (written by export for MoNE models).
const std::set<std::string>& mone_keys() {
  static const std::set<std::string> keys = {
      "ffn_type", "neuron_topk", "neuron_topk_backward", "sparsify_shared_expert", "mone_strategy",
      "router_z_loss_coef", "neuron_aux_loss_coef", "neuron_aux_loss_form"};
  return keys;
}

// Reads one config.json, remembering which keys it used; errors name the file and architecture.
class ConfigReader {
 public:
  ConfigReader(const Json& config, std::string source, std::string arch)
      : config_(config), source_(std::move(source)), arch_(std::move(arch)) {}

  // The value of `key`, or nullptr when absent or null (transformers' None).
  const Json* find(const std::string& key) {
    used_.insert(key);
    auto it = config_.find(key);
    return it == config_.end() || it->is_null() ? nullptr : &*it;
  }
  StatusOr<int64_t> integer(const std::string& key, int64_t fallback) {
    const Json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number_integer()) return error(key, "must be an integer");
    return v->get<int64_t>();
  }
  StatusOr<double> number(const std::string& key, double fallback) {
    const Json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number()) return error(key, "must be a number");
    return v->get<double>();
  }
  StatusOr<bool> boolean(const std::string& key, bool fallback) {
    const Json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) return error(key, "must be true or false");
    return v->get<bool>();
  }
  // A key whose only value mone computes is `expected` (null counts as the absent default).
  Status require(const std::string& key, const Json& expected, const std::string& why) {
    const Json* v = find(key);
    if (v == nullptr || *v == expected) return absl::OkStatus();
    if (v->is_number() && expected.is_number() && v->get<double>() == expected.get<double>()) return absl::OkStatus();
    return error(key, why);
  }
  // "<source>: <Arch>: key "k" = <value>: why"
  Status error(const std::string& key, const std::string& why) const {
    auto it = config_.find(key);
    const std::string value = it == config_.end() ? "(absent)" : it->dump();
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", arch_, ": key \"", key, "\" = ", value, ": ", why));
  }
  // Every key was read, is generic, or is one of mone's own.
  Status check_all_understood() const {
    for (const auto& [key, value] : config_.items()) {
      if (used_.count(key) || generic_keys().count(key) || mone_keys().count(key)) continue;
      return absl::InvalidArgumentError(absl::StrCat(
          source_, ": ", arch_, ": key \"", key, "\" = ", value.dump(),
          " is not one mone understands for this architecture; it refuses rather than misread the model "
          "(docs/INTEROP.md lists the keys it reads)"));
    }
    return absl::OkStatus();
  }

 private:
  const Json& config_;
  std::string source_, arch_;
  std::set<std::string> used_;
};

StatusOr<HfArchitecture> detect_architecture(const Json& config, const std::string& source) {
  std::string class_name, model_type;
  if (auto it = config.find("architectures"); it != config.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != 1 || !(*it)[0].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": key \"architectures\" = ", it->dump(), ": must be a list of one class name"));
    }
    class_name = (*it)[0].get<std::string>();
  }
  if (auto it = config.find("model_type"); it != config.end() && it->is_string()) model_type = it->get<std::string>();
  std::vector<std::string> known;
  for (const auto& a : kArchitectures) {
    known.push_back(a.class_name);
    const bool class_matches = class_name == a.class_name, type_matches = model_type == a.model_type;
    if ((class_matches || class_name.empty()) && (type_matches || model_type.empty()) &&
        (class_matches || type_matches)) {
      return a.arch;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      source, ": architecture \"", class_name.empty() ? "(none)" : class_name, "\" (model_type \"",
      model_type.empty() ? "(none)" : model_type, "\") is not one mone imports; it reads ", absl::StrJoin(known, ", ")));
}

// Keys every architecture shares: the trunk, routing, activation and training settings, and the
// keys whose only accepted value is the one mone computes. Defaults are the architecture's own
// (transformers 4.45.2), used when a key is absent or null.
struct TrunkDefaults {
  int64_t vocab, hidden, layers, heads, kv_heads, max_positions, top_k;
  double eps, theta, aux_coef;
};

Status read_trunk(ConfigReader& r, const TrunkDefaults& d, ModelSpec& s) {
  MONE_ASSIGN_OR_RETURN(int64_t vocab, r.integer("vocab_size", d.vocab));
  MONE_ASSIGN_OR_RETURN(int64_t hidden, r.integer("hidden_size", d.hidden));
  MONE_ASSIGN_OR_RETURN(int64_t layers, r.integer("num_hidden_layers", d.layers));
  MONE_ASSIGN_OR_RETURN(int64_t heads, r.integer("num_attention_heads", d.heads));
  MONE_ASSIGN_OR_RETURN(int64_t kv_heads, r.integer("num_key_value_heads", d.kv_heads > 0 ? d.kv_heads : heads));
  // transformers keeps an explicit 0 and then divides by it; mone's spec would read 0 as "every head".
  if (r.find("num_key_value_heads") != nullptr && kv_heads <= 0) {
    return r.error("num_key_value_heads", "must be >= 1 (null means one per attention head)");
  }
  MONE_ASSIGN_OR_RETURN(int64_t max_positions, r.integer("max_position_embeddings", d.max_positions));
  MONE_ASSIGN_OR_RETURN(double eps, r.number("rms_norm_eps", d.eps));
  MONE_ASSIGN_OR_RETURN(double theta, r.number("rope_theta", d.theta));
  MONE_ASSIGN_OR_RETURN(bool tied, r.boolean("tie_word_embeddings", false));
  MONE_ASSIGN_OR_RETURN(double init, r.number("initializer_range", 0.02));
  MONE_ASSIGN_OR_RETURN(int64_t top_k, r.integer("num_experts_per_tok", d.top_k));
  MONE_ASSIGN_OR_RETURN(double aux, r.number("router_aux_loss_coef", d.aux_coef));
  s.set_vocab_size(vocab);
  s.set_hidden_size(hidden);
  s.set_num_hidden_layers(layers);
  s.set_num_attention_heads(heads);
  s.set_num_key_value_heads(kv_heads);
  s.set_max_position_embeddings(max_positions);
  s.set_rms_norm_eps(eps);
  s.set_rope_theta(theta);
  s.set_tie_word_embeddings(tied);
  s.set_initializer_range(init);
  s.set_num_experts_per_tok(top_k);
  s.set_router_aux_loss_coef(aux * static_cast<double>(top_k));  // transformers' loss is K at balance, ours 1
  s.set_router_z_loss_coef(0);
  s.set_neuron_aux_loss_coef(0);

  // The gate activation of every SwiGLU.
  if (const Json* act = r.find("hidden_act")) {
    const std::string name = act->is_string() ? act->get<std::string>() : "";
    if (name == "silu" || name == "swish") {
      s.set_hidden_act(ModelSpec::SILU);
    } else if (name == "sigmoid") {
      s.set_hidden_act(ModelSpec::SIGMOID);
    } else {
      return r.error("hidden_act", "mone's SwiGLU gates are silu (swish) or sigmoid");
    }
  }
  // head_dim (newer transformers) must be the one mone derives.
  if (heads > 0 && hidden % heads == 0) {
    MONE_RETURN_IF_ERROR(r.require("head_dim", hidden / heads,
                                   absl::StrCat("mone's head_dim is hidden_size / num_attention_heads = ", hidden / heads)));
  }
  // Plain RoPE, no dropout, full causal attention.
  MONE_RETURN_IF_ERROR(r.require("rope_scaling", Json(), "mone computes plain RoPE (no scaling)"));
  if (const Json* rp = r.find("rope_parameters")) {  // newer transformers: {"rope_type": "default", "rope_theta": θ}
    if (!rp->is_object() || rp->value("rope_type", std::string("default")) != "default" || !rp->contains("rope_theta") ||
        !(*rp)["rope_theta"].is_number()) {
      return r.error("rope_parameters", "mone computes plain RoPE: only {\"rope_type\": \"default\", \"rope_theta\": θ}");
    }
    s.set_rope_theta((*rp)["rope_theta"].get<double>());
  }
  MONE_RETURN_IF_ERROR(r.require("attention_dropout", 0, "mone has no dropout"));
  MONE_RETURN_IF_ERROR(r.require("pruned_heads", Json::object(), "mone has no pruned heads"));
  for (const char* key : {"is_encoder_decoder", "add_cross_attention", "tie_encoder_decoder"}) {
    MONE_RETURN_IF_ERROR(r.require(key, false, "mone's models are decoder-only"));
  }
  if (const Json* types = r.find("layer_types")) {  // newer transformers: per-layer attention kinds
    if (!types->is_array() || !std::all_of(types->begin(), types->end(), [](const Json& t) {
          return t == "full_attention";
        })) {
      return r.error("layer_types", "mone computes full causal attention in every layer");
    }
  }
  return absl::OkStatus();
}

Status read_mixtral(ConfigReader& r, ModelSpec& s) {
  MONE_RETURN_IF_ERROR(read_trunk(r, {32000, 4096, 32, 32, 8, 4096 * 32, 2, 1e-5, 1e6, 0.001}, s));
  MONE_ASSIGN_OR_RETURN(int64_t width, r.integer("intermediate_size", 14336));
  MONE_ASSIGN_OR_RETURN(int64_t experts, r.integer("num_local_experts", 8));
  s.set_ffn_type(ModelSpec::MOE);
  s.set_moe_intermediate_size(width);
  s.set_num_experts(experts);
  s.set_norm_topk_prob(true);  // Mixtral always renormalises the top-K weights
  if (const Json* window = r.find("sliding_window")) {
    if (!window->is_number_integer() || window->get<int64_t>() < s.max_position_embeddings()) {
      return r.error("sliding_window", absl::StrCat("mone computes full causal attention, which equals a sliding "
                                                    "window only when the window holds every position "
                                                    "(>= max_position_embeddings = ",
                                                    s.max_position_embeddings(), ")"));
    }
  }
  return r.require("router_jitter_noise", 0, "mone does not add jitter noise to the router's input");
}

Status read_qwen2_moe(ConfigReader& r, ModelSpec& s) {
  MONE_RETURN_IF_ERROR(read_trunk(r, {151936, 2048, 24, 16, 16, 32768, 4, 1e-6, 10000, 0.001}, s));
  MONE_ASSIGN_OR_RETURN(int64_t dense_width, r.integer("intermediate_size", 5632));
  MONE_ASSIGN_OR_RETURN(int64_t width, r.integer("moe_intermediate_size", 1408));
  MONE_ASSIGN_OR_RETURN(int64_t shared_width, r.integer("shared_expert_intermediate_size", 5632));
  MONE_ASSIGN_OR_RETURN(int64_t experts, r.integer("num_experts", 60));
  MONE_ASSIGN_OR_RETURN(bool norm, r.boolean("norm_topk_prob", false));
  MONE_ASSIGN_OR_RETURN(int64_t step, r.integer("decoder_sparse_step", 1));
  if (experts <= 0) return r.error("num_experts", "a model without experts is not a MoE checkpoint");
  if (shared_width <= 0) return r.error("shared_expert_intermediate_size", "must be > 0");
  s.set_ffn_type(ModelSpec::MOE);
  s.set_attention_qkv_bias(true);
  s.set_intermediate_size(dense_width);
  s.set_moe_intermediate_size(width);
  s.set_num_experts(experts);
  s.set_num_shared_experts(1);
  s.set_shared_expert_intermediate_size(shared_width);
  s.set_shared_expert_gate(true);
  s.set_norm_topk_prob(norm);
  s.set_decoder_sparse_step(step);
  if (const Json* layers = r.find("mlp_only_layers")) {
    if (!layers->is_array()) return r.error("mlp_only_layers", "must be a list of layer indices");
    for (const Json& l : *layers) {
      if (!l.is_number_integer()) return r.error("mlp_only_layers", "must be a list of layer indices");
      s.add_mlp_only_layers(l.get<int64_t>());
    }
  }
  // Sliding-window attention is off unless use_sliding_window; then sliding_window and
  // max_window_layers say nothing.
  MONE_RETURN_IF_ERROR(r.require("use_sliding_window", false, "mone computes full causal attention"));
  r.find("sliding_window");
  r.find("max_window_layers");
  return absl::OkStatus();
}

Status read_olmoe(ConfigReader& r, ModelSpec& s) {
  MONE_RETURN_IF_ERROR(read_trunk(r, {50304, 2048, 16, 16, 0, 4096, 8, 1e-5, 10000, 0.01}, s));
  MONE_ASSIGN_OR_RETURN(int64_t width, r.integer("intermediate_size", 2048));
  MONE_ASSIGN_OR_RETURN(int64_t experts, r.integer("num_experts", 64));
  MONE_ASSIGN_OR_RETURN(bool norm, r.boolean("norm_topk_prob", false));
  MONE_ASSIGN_OR_RETURN(bool bias, r.boolean("attention_bias", false));
  MONE_ASSIGN_OR_RETURN(double clip, r.number("clip_qkv", 0));
  if (r.find("clip_qkv") != nullptr && !(clip > 0)) {
    return r.error("clip_qkv", "must be null (no clamp) or a number > 0");
  }
  s.set_ffn_type(ModelSpec::MOE);
  s.set_moe_intermediate_size(width);
  s.set_num_experts(experts);
  s.set_norm_topk_prob(norm);
  s.set_attention_qkv_bias(bias);
  s.set_attention_output_bias(bias);
  s.set_qk_norm(true);
  s.set_clip_qkv(clip);
  return absl::OkStatus();
}

// mone's own keys, when present (a MoNE model exported by mone): applied over the spec.
Status read_mone_keys(const Json& config, const std::string& source, ModelSpec& s) {
  for (const std::string& key : mone_keys()) {
    auto it = config.find(key);
    if (it == config.end()) continue;
    MONE_RETURN_IF_ERROR(set_model_spec_field(s, key, *it, source).status());
  }
  return absl::OkStatus();
}

// Export: what transformers' load-balance coefficient is for ours (see the header).
double hf_aux_coef(const ModelSpec& s) {
  return s.router_aux_loss_coef() / static_cast<double>(s.num_experts_per_tok());
}

Status not_exportable(const std::string& field, const std::string& value, const std::string& why) {
  return absl::FailedPreconditionError(
      absl::StrCat("field ", field, " = ", value, ": no transformers architecture computes this model exactly (", why,
                   "); docs/INTEROP.md lists what exports"));
}

}  // namespace

const char* hf_architecture_name(HfArchitecture arch) {
  for (const auto& a : kArchitectures) {
    if (a.arch == arch) return a.class_name;
  }
  return "?";
}

bool is_transformers_config(const nlohmann::json& config) {
  if (!config.is_object()) return false;
  if (auto it = config.find("model_type"); it != config.end()) return *it != "mone";
  if (auto it = config.find("architectures"); it != config.end()) {
    return *it != Json::array({"MoneForCausalLM"});
  }
  return false;
}

StatusOr<HfModelConfig> read_hf_config(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) return absl::InvalidArgumentError(absl::StrCat(source, ": expected a JSON object"));
  HfModelConfig out;
  MONE_ASSIGN_OR_RETURN(out.arch, detect_architecture(config, source));
  ConfigReader r(config, source, hf_architecture_name(out.arch));
  switch (out.arch) {
    case HfArchitecture::kMixtral: MONE_RETURN_IF_ERROR(read_mixtral(r, out.spec)); break;
    case HfArchitecture::kQwen2Moe: MONE_RETURN_IF_ERROR(read_qwen2_moe(r, out.spec)); break;
    case HfArchitecture::kOlmoe: MONE_RETURN_IF_ERROR(read_olmoe(r, out.spec)); break;
  }
  MONE_RETURN_IF_ERROR(r.check_all_understood());
  MONE_RETURN_IF_ERROR(read_mone_keys(config, source, out.spec));
  MONE_RETURN_IF_ERROR(models::validate_model_spec(out.spec, absl::StrCat(source, " (as read for ", hf_architecture_name(out.arch), ")")));
  return out;
}

StatusOr<HfArchitecture> choose_hf_architecture(const proto::ModelSpec& s) {
  if (!models::has_experts(s)) {
    return not_exportable("ffn_type", "dense", "export writes MoE and MoNE models");
  }
  if (s.num_shared_experts() > 1) {
    return not_exportable("num_shared_experts", std::to_string(s.num_shared_experts()),
                          "Qwen2-MoE, the one architecture with a shared expert, has exactly one");
  }
  const bool all_routed = models::num_dense_layers(s) == 0;
  // OLMoE: the only architecture with q/k norms and a clamp; no shared expert, every layer routed.
  if (s.qk_norm()) {
    if (s.num_shared_experts() > 0) return not_exportable("qk_norm", "true", "OLMoE, which has q/k norms, has no shared expert");
    if (!all_routed) return not_exportable("qk_norm", "true", "OLMoE, which has q/k norms, routes every layer");
    return HfArchitecture::kOlmoe;
  }
  if (s.clip_qkv() > 0) {
    return not_exportable("clip_qkv", absl::StrCat(s.clip_qkv()), "only OLMoE clamps q, k, v, and always after q/k norms");
  }
  if (s.attention_output_bias()) {
    return not_exportable("attention_output_bias", "true", "only OLMoE has an o_proj bias, and always with q/k norms");
  }
  // Mixtral: renormalised top-K, no shared expert, no biases, every layer routed.
  if (s.num_shared_experts() == 0 && s.norm_topk_prob() && !s.attention_qkv_bias() && all_routed) {
    return HfArchitecture::kMixtral;
  }
  // Qwen2-MoE computes everything else exactly: zero biases add nothing, and a missing or
  // ungated shared expert is written in a form its sigmoid gate reproduces (hf_weights.h).
  return HfArchitecture::kQwen2Moe;
}

nlohmann::json hf_config_json(const proto::ModelSpec& s, HfArchitecture arch, const std::string& torch_dtype) {
  Json c;
  for (const auto& a : kArchitectures) {
    if (a.arch == arch) {
      c["architectures"] = {a.class_name};
      c["model_type"] = a.model_type;
    }
  }
  c["vocab_size"] = s.vocab_size();
  c["hidden_size"] = s.hidden_size();
  c["num_hidden_layers"] = s.num_hidden_layers();
  c["num_attention_heads"] = s.num_attention_heads();
  c["num_key_value_heads"] = models::num_kv_heads(s);
  c["max_position_embeddings"] = s.max_position_embeddings();
  c["rms_norm_eps"] = s.rms_norm_eps();
  c["rope_theta"] = s.rope_theta();
  c["tie_word_embeddings"] = s.tie_word_embeddings();
  c["initializer_range"] = s.initializer_range();
  c["hidden_act"] = s.hidden_act() == ModelSpec::SIGMOID ? "sigmoid" : "silu";
  c["num_experts_per_tok"] = s.num_experts_per_tok();
  c["router_aux_loss_coef"] = hf_aux_coef(s);
  c["output_router_logits"] = false;
  c["attention_dropout"] = 0.0;
  c["use_cache"] = true;
  c["torch_dtype"] = torch_dtype;
  switch (arch) {
    case HfArchitecture::kMixtral:
      c["intermediate_size"] = s.moe_intermediate_size();
      c["num_local_experts"] = s.num_experts();
      c["sliding_window"] = nullptr;
      c["router_jitter_noise"] = 0.0;
      break;
    case HfArchitecture::kQwen2Moe: {
      c["num_experts"] = s.num_experts();
      c["moe_intermediate_size"] = s.moe_intermediate_size();
      // Width 1 for a model without a shared expert: its weights are written as zeros (hf_weights.h).
      c["shared_expert_intermediate_size"] = s.num_shared_experts() > 0 ? models::shared_expert_width(s) : 1;
      c["intermediate_size"] = s.intermediate_size() > 0 ? s.intermediate_size() : s.moe_intermediate_size();
      c["norm_topk_prob"] = s.norm_topk_prob();
      c["decoder_sparse_step"] = s.decoder_sparse_step();
      c["mlp_only_layers"] = Json::array();
      for (int64_t l : s.mlp_only_layers()) c["mlp_only_layers"].push_back(l);
      c["use_sliding_window"] = false;
      c["sliding_window"] = nullptr;
      c["rope_scaling"] = nullptr;
      break;
    }
    case HfArchitecture::kOlmoe:
      c["intermediate_size"] = s.moe_intermediate_size();
      c["num_experts"] = s.num_experts();
      c["norm_topk_prob"] = s.norm_topk_prob();
      c["attention_bias"] = s.attention_qkv_bias() || s.attention_output_bias();
      c["clip_qkv"] = s.clip_qkv() > 0 ? Json(s.clip_qkv()) : Json();
      c["rope_scaling"] = nullptr;
      break;
  }
  // mone's own keys: transformers ignores them; a re-import restores the MoNE model and its losses.
  // A MoNE model writes them all; any other writes those that differ from their defaults (a MoE
  // spec may carry a neuron_topk, say), so that reading the file back gives the same spec.
  c["router_z_loss_coef"] = s.router_z_loss_coef();
  Json mone = model_config_json(s);
  const Json defaults = model_config_json(ModelSpec());
  if (s.ffn_type() != ModelSpec::MONE) mone["neuron_topk"] = s.neuron_topk();  // as given, not K_N = D
  for (const std::string& key : mone_keys()) {
    if (!mone.contains(key)) continue;
    const bool differs = key == "ffn_type" ? s.ffn_type() != ModelSpec::MOE
                                           : !defaults.contains(key) || mone.at(key) != defaults.at(key);
    if (s.ffn_type() == ModelSpec::MONE || differs) c[key] = mone.at(key);
  }
  return c;
}

}  // namespace mone::train

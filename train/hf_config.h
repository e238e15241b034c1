// Hugging Face transformers configs (config.json) of MoE architectures, read into a ModelSpec and
// written from one (docs/INTEROP.md).
//
// Each architecture is read exactly as transformers 4.45.2 computes it:
//   MixtralForCausalLM   softmax over experts, top-K, renormalised (norm_topk_prob = true); no
//                        biases, no shared expert; intermediate_size is the expert width D,
//                        num_local_experts is E.
//   Qwen2MoeForCausalLM  q/k/v biases; one shared expert of width shared_expert_intermediate_size
//                        scaled by sigmoid(shared_expert_gate · x); norm_topk_prob as given;
//                        decoder_sparse_step and mlp_only_layers choose dense layers of width
//                        intermediate_size; moe_intermediate_size is D.
//   OlmoeForCausalLM     q_norm and k_norm over the whole projections, clip_qkv, attention_bias
//                        (q, k, v and o); norm_topk_prob as given; intermediate_size is D.
// Every key of config.json is either read, checked to hold a value mone computes identically
// (rope_scaling null, attention_dropout 0, no sliding window, ...), or one of the generic
// PretrainedConfig keys that do not change the model (token ids, generation defaults); any other
// key is an error naming the file, the architecture and the key, so nothing is silently misread.
//
// The load-balance loss: transformers' equals K at perfect balance, mone's equals 1 (MONE.md), so
// router_aux_loss_coef α becomes K·α on import and α/K on export. transformers has no z-loss: an
// import sets router_z_loss_coef to 0.
//
// mone's own MoNE keys (neuron_topk, neuron_topk_backward, ffn_type, ...) may ride along in a
// transformers config: export writes them for a MoNE model and import reads them back, so a MoNE
// checkpoint survives the round trip (transformers itself ignores them and runs every neuron).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "proto/model.pb.h"

namespace mone::train {

enum class HfArchitecture { kMixtral, kQwen2Moe, kOlmoe };

// "MixtralForCausalLM", ...
const char* hf_architecture_name(HfArchitecture arch);

// Whether config.json describes a transformers model rather than a mone one (mone writes
// "model_type": "mone"): a model_type or architectures entry naming anything else.
bool is_transformers_config(const nlohmann::json& config);

struct HfModelConfig {
  HfArchitecture arch;
  proto::ModelSpec spec;  // validated
};

// The architecture and the spec of a transformers config.json (`source` names it in errors):
// an unknown architecture, a value mone does not compute, or an unknown key is an error.
StatusOr<HfModelConfig> read_hf_config(const nlohmann::json& config, const std::string& source);

// The architecture that computes `spec` exactly (see hf_export.h for the rules); an error naming
// the field when none does.
StatusOr<HfArchitecture> choose_hf_architecture(const proto::ModelSpec& spec);

// config.json of `spec` as `arch` (as choose_hf_architecture chose it), with "torch_dtype" =
// torch_dtype ("float32", "bfloat16").
nlohmann::json hf_config_json(const proto::ModelSpec& spec, HfArchitecture arch, const std::string& torch_dtype);

}  // namespace mone::train

// config.json: a checkpoint's model in Hugging Face style (DESIGN.md, "Files users touch").
//
// The keys are ModelSpec's field names (one vocabulary for specs and configs), enum values in
// lower case ("mone", "silu", "straight_through"), plus "architectures": ["MoneForCausalLM"],
// "model_type": "mone" and "torch_dtype": "float32". Sizes that a spec may leave as 0 ("use the
// default") are written as the value the model actually uses: num_key_value_heads (H),
// shared_expert_intermediate_size (D), neuron_topk (D/4 for MoNE, D for MoE), so a reader needs
// no mone rules to rebuild the model.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "proto/model.pb.h"

namespace mone::train {

inline constexpr char kModelConfigFileName[] = "config.json";

nlohmann::json model_config_json(const proto::ModelSpec& spec);

// The inverse: every key named like a ModelSpec field sets it (a wrong JSON type or an unknown
// enum value is an error naming `source` and the key); other keys are ignored. The spec is then
// validated.
StatusOr<proto::ModelSpec> model_spec_from_config_json(const nlohmann::json& config, const std::string& source);

// Sets the ModelSpec field named `key` from one config.json value, by the rules above (a wrong
// JSON type or an unknown enum value is an error naming `source` and the key). False when no
// field has that name. (The Hugging Face importer reads mone's own keys with it.)
StatusOr<bool> set_model_spec_field(proto::ModelSpec& spec, const std::string& key, const nlohmann::json& value,
                                    const std::string& source);

}  // namespace mone::train

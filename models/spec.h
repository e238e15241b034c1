// Model specs: load a ModelSpec textproto, validate it, and read its derived sizes.
//
// A spec is the user's description of a model (proto/model.proto; docs/SPECS.md). Everything a
// user can get wrong here comes back as a Status whose message names the source (the file), the
// field and its value: "<source>: field <name> = <value>: <why>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "proto/model.pb.h"

namespace mone::models {

// Reads and parses the textproto at `path`, then validates it. Errors name the path: a missing
// or unreadable file, a parse error (with line:column), or an invalid field.
StatusOr<proto::ModelSpec> load_model_spec(const std::string& path);

// Merges textproto `text` into `message` (any protobuf message: ModelSpec, TrainSpec, ...).
// Errors read "<source_name>:<line>:<column>: <what>", pointing at the culprit. A singular field
// given twice in `text` is an error (it is not "last one wins"). Enum values may be written in
// any letter case (`hidden_act: sigmoid`, as config.json spells them); an unknown one is an error
// that lists the allowed values.
Status merge_textproto(const std::string& text, const std::string& source_name,
                       google::protobuf::Message* message);

// The value of enum `type` called `name` in any letter case ("straight_through"), or nullptr.
const google::protobuf::EnumValueDescriptor* find_enum_value(const google::protobuf::EnumDescriptor* type,
                                                             std::string_view name);
// "SILU, SIGMOID": the value names of an enum, for messages.
std::string enum_value_names(const google::protobuf::EnumDescriptor* type);
// "STRAIGHT_THROUGH" -> "straight_through", config.json's spelling.
std::string lower_case(std::string s);

// Parses `text` as a ModelSpec textproto and validates it; `source_name` (a file name, or
// "<string>") prefixes every error message.
StatusOr<proto::ModelSpec> parse_model_spec(const std::string& text,
                                            const std::string& source_name);

// Rejects specs no model can be built from (non-positive sizes, heads not dividing the width,
// K > E, K_N > D, negative loss weights, ...). OK when the spec is buildable.
Status validate_model_spec(const proto::ModelSpec& spec, const std::string& source_name);

// Derived sizes. They assume a valid spec.
int64_t head_dim(const proto::ModelSpec& spec);      // hidden_size / num_attention_heads
int64_t num_kv_heads(const proto::ModelSpec& spec);  // num_key_value_heads, or H when 0
// D_s: shared_expert_intermediate_size, or moe_intermediate_size when 0.
int64_t shared_expert_width(const proto::ModelSpec& spec);
// K_N actually used by routed experts: D for MOE; neuron_topk, or D/4 when 0, for MONE;
// 0 for DENSE (no experts).
int64_t effective_neuron_topk(const proto::ModelSpec& spec);
// Neurons kept per token in each shared expert: K_N when sparsify_shared_expert, else D_s.
int64_t shared_expert_neuron_topk(const proto::ModelSpec& spec);
bool has_experts(const proto::ModelSpec& spec);  // ffn_type is MOE or MONE
// Whether block `layer` (from 0) routes its tokens to experts: has_experts, (layer + 1) a multiple
// of decoder_sparse_step, and layer not in mlp_only_layers. Every other block of a MOE/MONE spec
// is a dense SwiGLU of width intermediate_size (Qwen2-MoE's rule).
bool is_moe_layer(const proto::ModelSpec& spec, int64_t layer);
int64_t num_moe_layers(const proto::ModelSpec& spec);
// Blocks whose feed-forward is a dense SwiGLU: num_hidden_layers - num_moe_layers.
int64_t num_dense_layers(const proto::ModelSpec& spec);

// The spec as textproto, every field written out (defaults included), in field-number order.
std::string model_spec_to_text(const proto::ModelSpec& spec);

}  // namespace mone::models

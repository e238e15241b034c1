// Model specs: load a ModelSpec textproto, validate it, and read its derived sizes.
//
// A spec is the user's description of a model (proto/model.proto; docs/SPECS.md). Everything a
// user can get wrong here comes back as a Status whose message names the source (the file), the
// field and its value: "<source>: field <name> = <value>: <why>".
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "proto/model.pb.h"

namespace mone::models {

// Reads and parses the textproto at `path`, then validates it. Errors name the path: a missing
// or unreadable file, a parse error (with line:column), or an invalid field.
StatusOr<proto::ModelSpec> load_model_spec(const std::string& path);

// Merges textproto `text` into `message` (any protobuf message: ModelSpec, TrainSpec, ...).
// Errors read "<source_name>:<line>:<column>: <what>", pointing at the culprit.
Status merge_textproto(const std::string& text, const std::string& source_name,
                       google::protobuf::Message* message);

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
// Neurons kept per token in each shared expert: shared_expert_neuron_topk when set, else K_N when
// sparsify_shared_expert, else D_s.
int64_t shared_expert_neuron_topk(const proto::ModelSpec& spec);
bool has_experts(const proto::ModelSpec& spec);  // ffn_type is MOE or MONE

// The spec as textproto, every field written out (defaults included), in field-number order.
std::string model_spec_to_text(const proto::ModelSpec& spec);

}  // namespace mone::models

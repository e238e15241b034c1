// TrainSpec files and overrides: load configs/train/*.textproto, apply `--set field=value`
// overrides (any field, nested with dots: `model.hidden_size=64`), resolve the model spec, and
// validate the combination.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "proto/train.pb.h"

namespace mone::train {

// Reads a TrainSpec textproto. Errors name the file (and line:column for parse errors).
StatusOr<proto::TrainSpec> load_train_spec(const std::string& path);

// Parses TrainSpec textproto held in memory (e.g. a checkpoint's resolved spec); `source` names it.
StatusOr<proto::TrainSpec> parse_train_spec(const std::string& text, const std::string& source);

// Applies "field=value" to the spec through protobuf reflection: "lr=0.01", "run_dir=runs/x",
// "model.hidden_size=64". Errors name the override and the field.
Status apply_override(proto::TrainSpec& spec, const std::string& assignment);

// At most this many tokens per optimizer step (batch_size × seq_len × grad_accum_steps).
inline constexpr int64_t kMaxTokensPerStep = int64_t{1} << 40;

// Loads spec.model_spec into spec.model unless the model is inline (relative paths are taken
// from the working directory), applies the vocab_size override, and validates both specs:
// sizes positive, at most kMaxTokensPerStep tokens per step, seq_len <= the model's
// max_position_embeddings, a known device, ...
// `source` names the train spec in messages.
Status resolve_train_spec(proto::TrainSpec& spec, const std::string& source);

}  // namespace mone::train

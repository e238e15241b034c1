// TrainSpec files and overrides: load configs/train/*.textproto, apply `--set field=value`
// overrides (any field, nested with dots: `model.hidden_size=64`), resolve paths and the model
// spec, validate the combination, and say what changed between two specs.
//
// Paths. A relative input path written in a spec file (model_spec, train_data, val_data,
// tokenizer) is looked for beside the spec file first, then in the working directory; a relative
// run_dir (an output) is taken from the working directory. Paths given on the command line
// (flags, --set) are relative to the working directory. A resolved spec holds absolute paths
// only, so the copy a checkpoint keeps works from any directory.
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
// "model.hidden_size=64". A path field set this way is made absolute against the working
// directory. Errors name the override and the field.
Status apply_override(proto::TrainSpec& spec, const std::string& assignment);

// At most this many tokens per optimizer step (batch_size × seq_len × grad_accum_steps).
inline constexpr int64_t kMaxTokensPerStep = int64_t{1} << 40;

// `path` made absolute against the working directory, normalised, without a trailing '/'.
std::string absolute_path(const std::string& path);

// Makes every path field absolute: inputs beside `spec_dir` (the spec file's folder; "" for
// none) when there, else in the working directory; run_dir against the working directory. An
// input found in neither place is an error naming the field and both places.
Status resolve_spec_paths(proto::TrainSpec& spec, const std::string& source, const std::string& spec_dir);

// Resolves the paths, then loads model_spec into spec.model unless the model is inline (so
// `--set model.X=V` can change one field of it). Errors name the file.
Status inline_model(proto::TrainSpec& spec, const std::string& source, const std::string& spec_dir);

// inline_model, then the vocab_size override, then validates both specs: sizes positive, at
// most kMaxTokensPerStep tokens per step, seq_len <= the model's max_position_embeddings, a known
// device, ... `source` names the train spec in messages.
Status resolve_train_spec(proto::TrainSpec& spec, const std::string& source, const std::string& spec_dir = "");

// One field that differs between the spec a checkpoint was trained with and a resumed run's.
struct SpecChange {
  std::string field, before, after;
  bool affects_training = true;  // false for where files go, logging, evaluation and checkpoints
};
// The top-level fields that differ, in field order. Paths compare by the file they name, so a
// different spelling of the same path is no change; the model is left out (compared on its own).
std::vector<SpecChange> spec_changes(const proto::TrainSpec& before, const proto::TrainSpec& after);
// "steps 300 -> 600, lr 0.003 -> 0.001"
std::string describe_changes(const std::vector<SpecChange>& changes);

}  // namespace mone::train

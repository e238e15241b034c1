// Hugging Face transformers checkpoints in and out (docs/INTEROP.md): `mone import`, `mone export`,
// and the direct load of a transformers directory by every command that takes a checkpoint
// (train/checkpointing.h's load_model_from_checkpoint calls load_hf_model).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "models/transformer.h"
#include "train/hf_config.h"

namespace mone::train {

// The model of a transformers directory (config.json plus model.safetensors or shards), built as
// its architecture computes it and loaded in `dtype`. The one entry point for tools that take a
// transformers model; errors name the file, the architecture, the key or the tensor. The
// architecture read goes to *arch when given.
StatusOr<std::unique_ptr<models::Transformer>> load_hf_model(const std::string& dir, DType dtype = DType::kF32,
                                                             HfArchitecture* arch = nullptr);

// mone import: the model of the transformers directory `from`, written as a mone model directory
// `out` (config.json in mone's keys, model.safetensors under mone's names, f32). `out` must not
// exist; it appears complete or not at all. Returns the architecture read.
StatusOr<HfArchitecture> import_hf_model(const std::string& from, const std::string& out);

// mone export: `model` written to the new directory `out` as the transformers architecture that
// computes it exactly (choose_hf_architecture), config.json and model.safetensors in f32 or bf16.
// `out` must not exist; it appears complete or not at all. Returns the architecture written.
StatusOr<HfArchitecture> export_hf_model(const models::Transformer& model, const std::string& out,
                                         DType dtype = DType::kF32);

}  // namespace mone::train

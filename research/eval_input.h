// What every command that evaluates a checkpoint opens (mone eval, gradstudy, analyze, sparsify):
// the checkpoint's model in the dtype asked for, its spec, and the evaluation batches in llm.c's
// order (train/data/eval_reader.h), sized as the checkpoint was trained. Commands opened with the
// same options see the same batches, so their numbers compare exactly. The model lives on the
// options' device; the batches are host tensors (the model's forward moves them), and the tools
// read what they need back with host_vector (core/tensor.h).
//
// Shape letters: B batch, T sequence.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "models/transformer.h"
#include "proto/train.pb.h"
#include "train/data/eval_reader.h"

namespace mone::research {

struct EvalInputOptions {
  std::string checkpoint;         // a checkpoint directory, or a run directory (its newest valid checkpoint)
  std::vector<std::string> data;  // directories (their *val*.bin shards, else every *.bin), files or globs
  int64_t batch_size = 0;         // B; 0: as trained (shrunk to fit small data), else 8
  int64_t seq_len = 0;            // T; 0: as trained, else max_position_embeddings
  int64_t batches = 0;            // batches to use, at most the data's full batches; 0: all of them
  DType dtype = DType::kF32;      // the model's dtype (f32 or f64; the checkpoint's f32 weights are converted)
  Device device;                  // where the model (and each variant) lives; f32 only on a GPU
};

// A model on a GPU evaluates in f32 only (the CUDA kernels compute in f32 and bf16): an error
// naming --dtype and --device otherwise.
Status check_device_dtype(bool cuda, DType dtype);

// "f32" -> kF32, "f64" -> kF64; anything else is an error naming `flag`.
StatusOr<DType> parse_model_dtype(const std::string& text, const std::string& flag);

// A selector by its name (ops::neuron_selector_name: abs_gate, signed_gate, abs_gate_times_up,
// abs_gate_threshold); anything else is an error naming `flag` and the choices.
StatusOr<proto::ModelSpec::NeuronSelector> parse_neuron_selector(const std::string& text, const std::string& flag);

class EvalInput {
 public:
  static StatusOr<EvalInput> open(const EvalInputOptions& options);

  const std::string& dir() const { return dir_; }  // the checkpoint directory used
  const proto::ModelSpec& spec() const { return model_->spec(); }
  const models::Transformer& model() const { return *model_; }
  models::Transformer& model() { return *model_; }
  DType dtype() const { return options_.dtype; }
  const std::optional<proto::TrainSpec>& trained_spec() const { return trained_; }
  const std::optional<int64_t>& trained_step() const { return trained_step_; }  // the checkpoint's step
  const std::vector<std::string>& data_paths() const { return paths_; }       // the shards read
  // Why the batch size differs from the trained one (it shrank to fit the data); empty when not.
  const std::string& note() const { return note_; }
  int64_t batch_size() const { return reader_.batch_size(); }
  int64_t seq_len() const { return reader_.seq_len(); }
  int64_t batches() const;  // options.batches, or every full batch when 0
  const train::EvalReader& reader() const { return reader_; }

  // Batch j: inputs and targets [B, T] i32.
  struct Batch {
    Tensor ids, targets;
  };
  StatusOr<Batch> batch(int64_t j) const;

  // Another copy of the checkpoint's model (same dtype), its spec changed by `edit` first: a
  // variant of the same weights (another K_N, selector or estimator).
  StatusOr<std::unique_ptr<models::Transformer>> load_variant(const std::function<void(proto::ModelSpec&)>& edit) const;

 private:
  EvalInput(EvalInputOptions options, std::string dir, std::unique_ptr<models::Transformer> model,
            train::EvalReader reader)
      : options_(std::move(options)), dir_(std::move(dir)), model_(std::move(model)), reader_(std::move(reader)) {}
  EvalInputOptions options_;
  std::string dir_;
  std::unique_ptr<models::Transformer> model_;
  train::EvalReader reader_;
  std::optional<proto::TrainSpec> trained_;
  std::optional<int64_t> trained_step_;
  std::vector<std::string> paths_;
  std::string note_;
};

}  // namespace mone::research

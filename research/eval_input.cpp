#include "research/eval_input.h"

#include "ops/mone_ffn.h"
#include "train/checkpointing.h"
#include "train/evaluate.h"
#include "train/train_spec.h"

namespace mone::research {
namespace {

// What a checkpoint records of its training (a bare model directory records nothing).
struct Trained {
  proto::TrainSpec spec;  // its batch size and sequence length are the defaults
  int64_t step = 0;
};
std::optional<Trained> read_trained(const std::string& dir) {
  StatusOr<train::TrainerState> state = train::read_trainer_state(dir);
  if (!state.ok()) return std::nullopt;
  StatusOr<proto::TrainSpec> spec = train::parse_train_spec(state->train_spec_text, dir);
  if (!spec.ok()) return std::nullopt;
  return Trained{*spec, state->step};
}

}  // namespace

StatusOr<DType> parse_model_dtype(const std::string& text, const std::string& flag) {
  if (text == "f32") return DType::kF32;
  if (text == "f64") return DType::kF64;
  return absl::InvalidArgumentError(absl::StrCat(flag, " ", text, ": expected f32 or f64"));
}

StatusOr<proto::ModelSpec::NeuronSelector> parse_neuron_selector(const std::string& text, const std::string& flag) {
  std::string choices;
  const auto* e = proto::ModelSpec::NeuronSelector_descriptor();
  for (int i = 0; i < e->value_count(); ++i) {
    const auto v = static_cast<proto::ModelSpec::NeuronSelector>(e->value(i)->number());
    const std::string name = ops::neuron_selector_name(models::neuron_selector(v));
    if (name == text) return v;
    absl::StrAppend(&choices, i > 0 ? ", " : "", name);
  }
  return absl::InvalidArgumentError(absl::StrCat(flag, " ", text, ": expected one of ", choices));
}

Status check_device_dtype(bool cuda, DType dtype) {
  if (!cuda || dtype == DType::kF32) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--dtype ", dtype_name(dtype), " with --device cuda: the CUDA kernels ",
                                                 "compute in f32 and bf16; use --dtype f32 (or --device cpu)"));
}

StatusOr<EvalInput> EvalInput::open(const EvalInputOptions& o) {
  if (o.dtype != DType::kF32 && o.dtype != DType::kF64) {
    return absl::InvalidArgumentError(absl::StrCat("models evaluate in f32 or f64, not ", dtype_name(o.dtype)));
  }
  MONE_RETURN_IF_ERROR(check_device_dtype(!o.device.is_cpu(), o.dtype));
  std::string dir;
  train::ModelLoadOptions load;
  load.dtype = o.dtype;
  MONE_ASSIGN_OR_RETURN(std::unique_ptr<models::Transformer> model,
                        train::load_model_from_checkpoint(o.checkpoint, &dir, load));
  MONE_RETURN_IF_ERROR(model->to(o.device));
  const proto::ModelSpec& spec = model->spec();
  const std::optional<Trained> trained = read_trained(dir);
  const int64_t B = o.batch_size > 0 ? o.batch_size : trained ? trained->spec.batch_size() : 8;
  const int64_t T = o.seq_len > 0 ? o.seq_len : trained ? trained->spec.seq_len() : spec.max_position_embeddings();
  if (T > spec.max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat("--seq-len ", T, " exceeds the model's max_position_embeddings (",
                                                   spec.max_position_embeddings(), ")"));
  }
  std::vector<std::string> paths;
  for (const std::string& d : o.data) {
    MONE_ASSIGN_OR_RETURN(std::vector<std::string> found, train::find_split_shards(d, "val"));
    paths.insert(paths.end(), found.begin(), found.end());
  }
  // A batch size given by hand is taken as is; the trained one shrinks to fit small data.
  std::string note;
  MONE_ASSIGN_OR_RETURN(train::EvalReader reader, o.batch_size > 0 ? train::EvalReader::open(paths, B, T)
                                                                    : train::open_eval_reader(paths, B, T, &note));
  MONE_RETURN_IF_ERROR(reader.check_max_token(spec.vocab_size()));
  if (o.batches > reader.num_batches()) {
    return absl::OutOfRangeError(absl::StrCat("--batches ", o.batches, ": the data holds ", reader.num_batches(),
                                              " full batches of ", reader.batch_size(), " x ", T,
                                              " tokens; give at most that many (0: all of them)"));
  }
  EvalInput input(o, std::move(dir), std::move(model), std::move(reader));
  if (trained) {
    input.trained_ = trained->spec;
    input.trained_step_ = trained->step;
  }
  input.paths_ = std::move(paths);
  input.note_ = std::move(note);
  return input;
}

int64_t EvalInput::batches() const { return options_.batches > 0 ? options_.batches : reader_.num_batches(); }

StatusOr<EvalInput::Batch> EvalInput::batch(int64_t j) const {
  const int64_t B = batch_size(), T = seq_len();
  std::vector<int32_t> inputs(B * T), targets(B * T);
  MONE_RETURN_IF_ERROR(reader_.read(j, inputs.data(), targets.data()));
  Batch b;
  MONE_ASSIGN_OR_RETURN(b.ids, Tensor::from_vector(inputs, {B, T}));
  MONE_ASSIGN_OR_RETURN(b.targets, Tensor::from_vector(targets, {B, T}));
  return b;
}

StatusOr<std::unique_ptr<models::Transformer>> EvalInput::load_variant(
    const std::function<void(proto::ModelSpec&)>& edit) const {
  train::ModelLoadOptions load;
  load.dtype = options_.dtype;
  load.edit_spec = edit;
  MONE_ASSIGN_OR_RETURN(std::unique_ptr<models::Transformer> model, train::load_model_from_checkpoint(dir_, nullptr, load));
  MONE_RETURN_IF_ERROR(model->to(options_.device));
  return model;
}

}  // namespace mone::research

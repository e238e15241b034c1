#include "train/checkpointing.h"

#include <sys/stat.h>

#include <sstream>

#include <google/protobuf/text_format.h>

#include "models/spec.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "core/file_io.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/manifest.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpoint/sha256.h"
#include "train/hf_interop.h"
#include "train/model_config.h"

namespace mone::train {
namespace {

constexpr char kExpAvgSuffix[] = ".exp_avg";
constexpr char kExpAvgSqSuffix[] = ".exp_avg_sq";

nlohmann::json state_json(const TrainerState& s) {
  return {{"step", s.step},
          {"optimizer_step", s.optimizer_step},
          {"lr", s.lr},
          {"data_position", s.data_position},
          {"data_seed", s.data_seed},
          {"rng_seed", s.rng_seed},
          {"rng_offset", s.rng_offset},
          {"consecutive_nonfinite", s.consecutive_nonfinite},
          {"tokens_seen", s.tokens_seen},
          {"elapsed_s", s.elapsed_s},
          {"train_spec_sha256", s.train_spec_sha256},
          {"model_spec_sha256", s.model_spec_sha256},
          {"train_spec", s.train_spec_text},
          {"model_spec", s.model_spec_text},
          {"load_window", s.load_window}};
}

// Reads json[key] as T, or an error naming the file and the key.
template <typename T>
Status read_key(const nlohmann::json& j, const char* key, const std::string& source, T& out) {
  auto it = j.find(key);
  bool ok = it != j.end();
  if constexpr (std::is_same_v<T, std::string>) {
    ok = ok && it->is_string();
  } else if constexpr (std::is_floating_point_v<T>) {
    ok = ok && it->is_number();
  } else if constexpr (std::is_unsigned_v<T>) {
    ok = ok && it->is_number_unsigned();
  } else {
    ok = ok && it->is_number_integer();
  }
  if (!ok) return absl::InvalidArgumentError(absl::StrCat(source, ": key \"", key, "\" is missing or has the wrong type"));
  out = it->get<T>();
  return absl::OkStatus();
}

// The first line where two spec texts differ, for the "different model" message.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  while (true) {
    const bool ga = static_cast<bool>(std::getline(sa, la)), gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga && !gb) return "";
    if (!ga) la = "(nothing)";
    if (!gb) lb = "(nothing)";
    if (la != lb || !ga || !gb) return absl::StrCat("checkpoint has `", la, "`, this run has `", lb, "`");
  }
}

// Whether path exists and is of this type (S_IFDIR, S_IFREG).
bool is_a(const std::string& path, mode_t type) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == type;
}

// The optimizer's moments under checkpoint names (a stacked parameter's per expert).
models::NamedTensorList moment_tensors(const models::ParameterList& params, const std::vector<Tensor>& m,
                                       const std::vector<Tensor>& v) {
  models::NamedTensorList out = models::checkpoint_tensors(params, m, kExpAvgSuffix);
  models::NamedTensorList sq = models::checkpoint_tensors(params, v, kExpAvgSqSuffix);
  out.insert(out.end(), sq.begin(), sq.end());
  return out;
}

Status load_optimizer(const std::string& path, const models::ParameterList& params, AdamW& optimizer,
                      int64_t expected_step) {
  MONE_ASSIGN_OR_RETURN(SafetensorsFile file, read_safetensors(path));
  // The whole state, shaped like the parameters; load_state keeps this rank's share (ZeRO-1).
  std::vector<Tensor> m, v;
  for (const auto& p : params) {
    MONE_ASSIGN_OR_RETURN(Tensor mi, Tensor::zeros_like(p.param.value()));
    MONE_ASSIGN_OR_RETURN(Tensor vi, Tensor::zeros_like(p.param.value()));
    m.push_back(std::move(mi));
    v.push_back(std::move(vi));
  }
  MONE_RETURN_IF_ERROR(models::load_named_tensors(moment_tensors(params, m, v), file.tensors, path));
  auto step_it = file.metadata.find("step");
  if (step_it == file.metadata.end() || step_it->second != std::to_string(expected_step)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": metadata step does not match trainer_state.json's optimizer_step ",
                                                   expected_step));
  }
  return optimizer.load_state(m, v, expected_step, path);
}

Status load_weights(const std::string& path, const models::ParameterList& params) {
  MONE_ASSIGN_OR_RETURN(SafetensorsFile file, read_safetensors(path));
  return models::load_parameters(params, file.tensors, path);
}

}  // namespace

std::string train_spec_text(const proto::TrainSpec& spec) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(spec, &text);
  return text;
}

TrainerState make_trainer_state(const proto::TrainSpec& resolved_spec) {
  TrainerState s;
  s.train_spec_text = train_spec_text(resolved_spec);
  s.model_spec_text = models::model_spec_to_text(resolved_spec.model());
  s.train_spec_sha256 = sha256_hex(s.train_spec_text);
  s.model_spec_sha256 = sha256_hex(s.model_spec_text);
  s.data_seed = resolved_spec.seed();
  s.rng_seed = resolved_spec.seed();
  return s;
}

StatusOr<std::string> save_checkpoint(const std::string& run_dir, const models::ParameterList& params,
                                      const AdamW& optimizer, const TrainerState& state,
                                      const proto::ModelSpec& model_spec, int keep_last) {
  auto write_files = [&](const std::string& dir) -> Status {
    const models::NamedTensorList weights = models::checkpoint_tensors(params);
    const models::NamedTensorList moments = moment_tensors(params, optimizer.exp_avg(), optimizer.exp_avg_sq());
    MONE_RETURN_IF_ERROR(write_safetensors(join_path(dir, kModelFileName), weights, {{"format", "pt"}}));
    MONE_RETURN_IF_ERROR(write_safetensors(join_path(dir, kOptimizerFileName), moments,
                                           {{"step", std::to_string(optimizer.step_count())}}));
    MONE_RETURN_IF_ERROR(write_json_file_atomic(join_path(dir, kModelConfigFileName), model_config_json(model_spec)));
    return write_json_file_atomic(join_path(dir, kTrainerStateFileName), state_json(state));
  };
  return commit_checkpoint(run_dir, state.step, write_files, keep_last);
}

StatusOr<TrainerState> read_trainer_state(const std::string& dir) {
  const std::string path = join_path(dir, kTrainerStateFileName);
  MONE_ASSIGN_OR_RETURN(nlohmann::json j, read_json_file(path));
  TrainerState s;
  MONE_RETURN_IF_ERROR(read_key(j, "step", path, s.step));
  MONE_RETURN_IF_ERROR(read_key(j, "optimizer_step", path, s.optimizer_step));
  MONE_RETURN_IF_ERROR(read_key(j, "lr", path, s.lr));
  MONE_RETURN_IF_ERROR(read_key(j, "data_position", path, s.data_position));
  MONE_RETURN_IF_ERROR(read_key(j, "data_seed", path, s.data_seed));
  MONE_RETURN_IF_ERROR(read_key(j, "rng_seed", path, s.rng_seed));
  MONE_RETURN_IF_ERROR(read_key(j, "rng_offset", path, s.rng_offset));
  MONE_RETURN_IF_ERROR(read_key(j, "consecutive_nonfinite", path, s.consecutive_nonfinite));
  MONE_RETURN_IF_ERROR(read_key(j, "tokens_seen", path, s.tokens_seen));
  MONE_RETURN_IF_ERROR(read_key(j, "elapsed_s", path, s.elapsed_s));
  MONE_RETURN_IF_ERROR(read_key(j, "train_spec_sha256", path, s.train_spec_sha256));
  MONE_RETURN_IF_ERROR(read_key(j, "model_spec_sha256", path, s.model_spec_sha256));
  MONE_RETURN_IF_ERROR(read_key(j, "train_spec", path, s.train_spec_text));
  MONE_RETURN_IF_ERROR(read_key(j, "model_spec", path, s.model_spec_text));
  if (auto it = j.find("load_window"); it != j.end()) s.load_window = *it;  // absent before it was kept
  if (s.step < 0 || s.optimizer_step < 0 || s.optimizer_step > s.step) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": inconsistent step ", s.step, " / optimizer_step ",
                                                   s.optimizer_step));
  }
  return s;
}

StatusOr<ResumePoint> load_checkpoint_for_resume(const std::string& run_dir, const proto::ModelSpec& model_spec,
                                                 models::ParameterList& params, AdamW& optimizer) {
  ResumePoint point;
  MONE_ASSIGN_OR_RETURN(point.dir, find_resumable_checkpoint(run_dir, &point.warnings));
  MONE_ASSIGN_OR_RETURN(point.state, read_trainer_state(point.dir));
  // The name is a label: renaming the model changes nothing it computes.
  proto::ModelSpec theirs_spec;
  MONE_RETURN_IF_ERROR(models::merge_textproto(point.state.model_spec_text,
                                               join_path(point.dir, kTrainerStateFileName) + " (model_spec)",
                                               &theirs_spec));
  theirs_spec.clear_name();
  proto::ModelSpec ours_spec = model_spec;
  ours_spec.clear_name();
  const std::string theirs = models::model_spec_to_text(theirs_spec), ours = models::model_spec_to_text(ours_spec);
  if (theirs != ours) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint ", point.dir, " was trained with a different model spec than this run (",
                     first_difference(theirs, ours), "); resume with the same model spec, or start a new run directory"));
  }
  MONE_RETURN_IF_ERROR(load_weights(join_path(point.dir, kModelFileName), params));
  MONE_RETURN_IF_ERROR(
      load_optimizer(join_path(point.dir, kOptimizerFileName), params, optimizer, point.state.optimizer_step));
  return point;
}

StatusOr<std::unique_ptr<models::Transformer>> load_model_from_checkpoint(const std::string& dir_in,
                                                                          std::string* loaded_dir) {
  if (!is_a(dir_in, S_IFDIR)) return absl::NotFoundError(absl::StrCat(dir_in, ": no such checkpoint directory"));
  // A checkpoint (it has a manifest: verify it), a bare model directory (config.json and
  // model.safetensors, e.g. written by another tool), or a run directory (its newest valid checkpoint).
  std::string dir = dir_in;
  if (is_a(join_path(dir, kManifestFileName), S_IFREG)) {
    MONE_RETURN_IF_ERROR(verify_checkpoint(dir));
  } else if (!is_a(join_path(dir, kModelConfigFileName), S_IFREG)) {
    MONE_ASSIGN_OR_RETURN(dir, find_resumable_checkpoint(dir_in));
  }
  const std::string config_path = join_path(dir, kModelConfigFileName);
  MONE_ASSIGN_OR_RETURN(nlohmann::json config, read_json_file(config_path));
  std::unique_ptr<models::Transformer> model;
  if (is_transformers_config(config)) {  // Mixtral, Qwen2-MoE, OLMoE: as their architecture computes them
    MONE_ASSIGN_OR_RETURN(model, load_hf_model(dir));
  } else {
    MONE_ASSIGN_OR_RETURN(proto::ModelSpec spec, model_spec_from_config_json(config, config_path));
    MONE_ASSIGN_OR_RETURN(model, models::Transformer::create(spec, 0));
    MONE_RETURN_IF_ERROR(load_weights(join_path(dir, kModelFileName), model->parameters()));
  }
  if (loaded_dir) *loaded_dir = dir;
  return model;
}

}  // namespace mone::train

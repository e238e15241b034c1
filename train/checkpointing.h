// Saving and resuming a training run: what goes into a checkpoint directory and how it comes back.
//
//   run_dir/step_00000100/
//     model.safetensors       every parameter under its Hugging Face name (f32)
//     optimizer.safetensors   "<name>.exp_avg" (m) and "<name>.exp_avg_sq" (v) per parameter;
//                             metadata {"step": "<AdamW updates so far>"}
//     config.json             the model, Hugging Face style (train/model_config.h)
//     trainer_state.json      everything else the numbers depend on (TrainerState below)
//     manifest.json           sizes and SHA-256 of the above (train/checkpoint/manifest.h)
// The directory is committed atomically by commit_checkpoint (train/checkpoint/checkpoint_dir.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "models/transformer.h"
#include "proto/train.pb.h"
#include "train/optimizer.h"

namespace mone::train {

inline constexpr char kModelFileName[] = "model.safetensors";
inline constexpr char kOptimizerFileName[] = "optimizer.safetensors";
inline constexpr char kTrainerStateFileName[] = "trainer_state.json";

// trainer_state.json. Restoring all of it (with the weights and moments) makes a resumed run
// compute exactly what the uninterrupted run would have.
struct TrainerState {
  int64_t step = 0;            // training steps completed (skipped ones included); the schedule position
  int64_t optimizer_step = 0;  // AdamW updates applied (skipped steps excluded)
  double lr = 0;               // the learning rate of the last step (informational)
  uint64_t data_position = 0;  // TrainLoader::position(): micro-batches served
  uint64_t data_seed = 0;      // the loader's seed
  // The trainer's random stream as a Philox (seed, offset) pair. Nothing in training draws from
  // it today (no dropout, deterministic routing), so the offset stays 0; it is saved so that a
  // stochastic feature added later resumes exactly too.
  uint64_t rng_seed = 0;
  uint64_t rng_offset = 0;
  int64_t consecutive_nonfinite = 0;
  int64_t tokens_seen = 0;
  double elapsed_s = 0;           // training time so far, over all sessions
  std::string train_spec_text;    // the resolved TrainSpec (textproto, model inline)
  std::string model_spec_text;    // models::model_spec_to_text of the model
  std::string train_spec_sha256;  // of train_spec_text
  std::string model_spec_sha256;  // of model_spec_text
  // Expert and neuron counts of the steps since the last metrics record (LoadStats::counts_json;
  // null when none), so that record comes out the same after a resume. Optional when read.
  nlohmann::json load_window;
};

// The resolved spec as stored (textproto) and its state fields filled in.
std::string train_spec_text(const proto::TrainSpec& spec);
TrainerState make_trainer_state(const proto::TrainSpec& resolved_spec);

// Commits run_dir/step_XXXXXXXX with the five files above and prunes to keep_last (0: keep all).
// Returns the checkpoint directory. Errors name the path.
StatusOr<std::string> save_checkpoint(const std::string& run_dir, const models::ParameterList& params,
                                      const AdamW& optimizer, const TrainerState& state,
                                      const proto::ModelSpec& model_spec, int keep_last);

struct ResumePoint {
  std::string dir;
  TrainerState state;
  std::vector<std::string> warnings;  // checkpoints skipped because they failed verification
};

// Resumes from the newest checkpoint of run_dir that passes its manifest (older ones are tried
// when a newer one is corrupt; each skip becomes a warning). Refuses, naming both, a checkpoint
// whose model spec differs from `model_spec` in anything but the `name` label. Loads the weights
// into params and the moments and step into optimizer.
StatusOr<ResumePoint> load_checkpoint_for_resume(const std::string& run_dir, const proto::ModelSpec& model_spec,
                                                 models::ParameterList& params, AdamW& optimizer);

// trainer_state.json of one checkpoint directory; errors name the file and the key.
StatusOr<TrainerState> read_trainer_state(const std::string& dir);

// The model a checkpoint directory describes (its config.json), built and loaded with its
// model.safetensors. `dir` may also be a run directory (its newest valid checkpoint is used) or a
// Hugging Face transformers directory (Mixtral, Qwen2-MoE, OLMoE: train/hf_interop.h's
// load_hf_model). The one entry point of every command that takes a checkpoint. The chosen
// directory goes to *loaded_dir when given.
StatusOr<std::unique_ptr<models::Transformer>> load_model_from_checkpoint(const std::string& dir,
                                                                          std::string* loaded_dir = nullptr);

}  // namespace mone::train

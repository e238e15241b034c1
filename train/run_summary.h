// `mone runs RUN_DIR...`: what a run directory holds, read from its checkpoints
// (trainer_state.json) and its metrics.jsonl, without loading any weights.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mone::train {

// A loss and the step of the metrics record it comes from.
struct StepValue {
  int64_t step = 0;
  double value = 0;
};

struct CheckpointSummary {
  std::string dir;
  int64_t step = 0;
  std::string problem;           // why trainer_state.json could not be read ("" when it could)
  int64_t tokens_seen = 0;
  double elapsed_s = 0;          // training time up to this checkpoint, all sessions
  std::string written;           // when the checkpoint was committed, local time "YYYY-MM-DD HH:MM"
  std::optional<StepValue> train_loss;  // the newest training record at or before `step`
  std::optional<StepValue> val_loss;    // the newest evaluation at or before `step`
};

struct MetricsSummary {
  int64_t train_records = 0, eval_records = 0, skipped_steps = 0;
  std::optional<StepValue> first_loss, last_loss;  // total training loss
  std::optional<StepValue> best_val, last_val;     // validation CE
  int64_t tokens = 0;                              // of the last training record
  double mean_tokens_per_s = 0;                    // over the training records
};

struct RunSummary {
  std::string run_dir;
  std::string model_name;   // from the newest readable checkpoint ("" when none)
  int64_t total_steps = 0;  // the schedule's length, likewise (0 when unknown)
  std::vector<CheckpointSummary> checkpoints;  // by ascending step
  std::optional<MetricsSummary> metrics;       // none without metrics.jsonl
};

// Reads a run directory. Error: it is not a directory. A checkpoint whose trainer_state.json is
// unreadable is listed with its problem; torn metrics lines are skipped.
StatusOr<RunSummary> summarize_run(const std::string& run_dir);

nlohmann::ordered_json run_summary_json(const RunSummary& run);

}  // namespace mone::train

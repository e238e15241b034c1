// The training loop behind `mone train` (docs/TRAINING.md).
//
// Per step s = 0, 1, ..., S-1 (S = steps, or token_budget / (B·T·grad_accum)):
//   lr = schedule(s)
//   grad_accum times: next [B, T] batch -> forward -> backward of loss / grad_accum
//   AdamW step (train/optimizer.h): all-reduce hook, clip, skip if not finite, update
//   every log_interval: a JSON line in run_dir/metrics.jsonl and a progress line on stderr
//   every eval_interval (and at the start and the end): mean losses over eval_batches of val data
//   every checkpoint_interval (and at the end, or when stopped): a checkpoint
// SIGINT/SIGTERM stop the loop at the end of the current step, after a checkpoint; a second
// signal kills the process as usual.
//
// Data parallelism (docs/DISTRIBUTED.md), with a communicator of R > 1 ranks: each rank reads
// B/R rows of every micro-batch (train/data/train_loader.h) and evaluates every R-th validation
// batch; reduce_gradients averages the gradients; the losses, evaluations and load statistics
// are combined over the ranks; rank 0 alone prints, writes metrics.jsonl and the checkpoints
// (with ZeRO-1 it first gathers the optimizer state). A signal to any rank stops every rank at
// the end of the same step.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "dist/communicator.h"
#include "proto/train.pb.h"

namespace mone::train {

struct TrainOptions {
  // Continue from run_dir's newest valid checkpoint. Without it, a run_dir that already holds
  // checkpoints is an error (nothing is ever overwritten).
  bool resume = false;
  // Names the spec (usually the --config file) in messages.
  std::string source = "<train spec>";
  // The spec file's folder: relative input paths in the spec are looked for there first, then in
  // the working directory (train/train_spec.h). "": the working directory only.
  std::string spec_dir;
  // > 0: stop after this step (checkpointed, like a signal) although the schedule runs to
  // `steps`; resuming later continues exactly. For splitting one run over several jobs.
  int64_t stop_after_step = 0;
  // Where progress lines, evaluations and warnings go; nullptr: nowhere.
  std::FILE* log = stderr;
  // Called after each step with the number of steps completed; returning true stops the run as a
  // signal would (tests use it). Empty: never. Every rank must answer alike.
  std::function<bool(int64_t)> stop_requested;
  // The ranks of a data-parallel run (not owned; its timeout becomes the spec's
  // collective_timeout_s). nullptr: one process.
  dist::Communicator* comm = nullptr;
};

struct TrainSummary {
  int64_t start_step = 0;   // steps already done when this session began (0 unless resumed)
  int64_t final_step = 0;   // steps done when it ended
  int64_t total_steps = 0;  // the schedule's length
  double final_loss = 0;    // the last step's total training loss
  // (step, mean validation CE) of every evaluation of this session, in order.
  std::vector<std::pair<int64_t, double>> val_losses;
  double final_val_loss() const { return val_losses.empty() ? 0.0 : val_losses.back().second; }
  std::string last_checkpoint;  // the checkpoint written last ("" when none)
  bool stopped_early = false;   // by a signal, stop_after_step or stop_requested
  int64_t skipped_steps = 0;    // non-finite steps whose update was skipped
  double tokens_per_s = 0;      // mean training throughput of this session
};

// Resolves `spec` (resolve_train_spec), checks the data, run directory and checkpoints, then trains.
// Every user error (bad spec, data, run directory, checkpoint) is a Status naming the file.
StatusOr<TrainSummary> run_training(const proto::TrainSpec& spec, const TrainOptions& options);

// S: spec.steps(), or token_budget / (B·T·grad_accum) (at least 1) when steps is 0.
int64_t total_training_steps(const proto::TrainSpec& spec);

}  // namespace mone::train

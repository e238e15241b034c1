// `mone bench train`: steady-state training throughput of a model spec on this machine, on random
// tokens (no data needed): tokens/s, MFU, and the share of the step spent inside BLAS GEMM (on the
// CPU a step should be GEMM-bound, not glue-bound).
#pragma once

#include <string>

#include "core/status.h"
#include "proto/model.pb.h"

namespace mone::train {

struct TrainBenchOptions {
  int64_t batch_size = 16, seq_len = 64;
  int64_t warmup_steps = 3, steps = 10;  // timed steps after warmup
  uint64_t seed = 1;
  double peak_flops = 0;  // 0: measure (best sgemm 512³)
  // When set, the step is also written there before timing, so that another implementation can
  // time the same step: config.json and model.safetensors (the initial weights, as a checkpoint
  // holds them) and batch.safetensors (input_ids and targets, i64 [B, T]).
  std::string save_step_dir;
};

struct TrainBenchResult {
  double step_seconds = 0;    // median over the timed steps
  double tokens_per_s = 0;
  double flops_per_token = 0; // models/spec_stats.h
  double peak_flops = 0;
  double mfu = 0;
  double gemm_share = 0;      // GEMM seconds / step seconds, over the timed steps
  double forward_share = 0;   // forward / (forward + backward + update)
};

StatusOr<TrainBenchResult> bench_training(const proto::ModelSpec& spec, const TrainBenchOptions& options);

}  // namespace mone::train

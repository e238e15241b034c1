// `mone bench train`: steady-state training throughput of a model spec on this machine, on random
// tokens (no data needed): tokens/s, MFU, and the share of the step spent inside BLAS GEMM (on the
// CPU a step should be GEMM-bound, not glue-bound). On CUDA: the model, its optimizer state and the
// batch on the GPU, each step timed up to a device synchronize, MFU against the cuBLAS GEMM peak of
// the compute dtype (train/machine.h), and the caching allocator's peak bytes: whether a model
// trains on one GPU at this batch, and with how much memory.
#pragma once

#include <optional>
#include <string>

#include "core/dtype.h"
#include "core/status.h"
#include "proto/model.pb.h"

namespace mone::train {

struct TrainBenchOptions {
  int64_t batch_size = 16, seq_len = 64;
  int64_t warmup_steps = 3, steps = 10;  // timed steps after warmup
  uint64_t seed = 1;
  double peak_flops = 0;  // 0: measure (train/machine.h: sgemm 512³ on the CPU, cuBLAS 8192³ on CUDA)
  Device device = Device::cpu();
  DType compute_dtype = DType::kF32;  // bf16: mixed precision (CUDA only)
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
  std::string peak_how;       // how peak_flops was found
  double mfu = 0;
  std::optional<double> gemm_share;  // GEMM seconds / step seconds, over the timed steps (CPU only)
  double forward_share = 0;   // forward / (forward + backward + update)
  // CUDA: the caching allocator's peak bytes over the whole run (weights, optimizer state,
  // activations, gradients), and the bytes held after it. 0 on the CPU.
  size_t peak_memory_bytes = 0, memory_bytes = 0;
};

StatusOr<TrainBenchResult> bench_training(const proto::ModelSpec& spec, const TrainBenchOptions& options);

}  // namespace mone::train

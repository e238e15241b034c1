#include "train/bench.h"

#include <algorithm>
#include <chrono>

#include "autograd/tape.h"
#include "core/rng.h"
#include "models/spec_stats.h"
#include "models/transformer.h"
#include "ops/cpu/gemm_timer.h"
#include "core/file_io.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/safetensors.h"
#include "train/machine.h"
#include "train/model_config.h"
#include "train/optimizer.h"

namespace mone::train {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The step's model and batch, for scripts/bench_vs_torch.sh (TrainBenchOptions::save_step_dir).
Status save_step(const std::string& dir, const proto::ModelSpec& spec, const models::ParameterList& params,
                 const Tensor& inputs, const Tensor& targets) {
  MONE_RETURN_IF_ERROR(make_directories(dir));
  MONE_RETURN_IF_ERROR(write_json_file_atomic(join_path(dir, "config.json"), model_config_json(spec)));
  MONE_RETURN_IF_ERROR(write_safetensors(join_path(dir, "model.safetensors"), models::checkpoint_tensors(params)));
  MONE_ASSIGN_OR_RETURN(Tensor ids, inputs.to(DType::kI64));
  MONE_ASSIGN_OR_RETURN(Tensor tgt, targets.to(DType::kI64));
  return write_safetensors(join_path(dir, "batch.safetensors"), {{"input_ids", ids}, {"targets", tgt}});
}
}  // namespace

StatusOr<TrainBenchResult> bench_training(const proto::ModelSpec& spec, const TrainBenchOptions& o) {
  if (o.batch_size < 1 || o.seq_len < 1 || o.steps < 1 || o.warmup_steps < 0) {
    return absl::InvalidArgumentError("batch size, sequence length and steps must be >= 1");
  }
  if (o.seq_len > spec.max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat("--seq-len ", o.seq_len,
                                                   " exceeds the model's max_position_embeddings ",
                                                   spec.max_position_embeddings()));
  }
  MONE_ASSIGN_OR_RETURN(auto model, models::Transformer::create(spec, o.seed));
  models::ParameterList params = model->parameters();
  MONE_ASSIGN_OR_RETURN(AdamW optimizer, AdamW::create(params, OptimizerConfig{}));
  // Random tokens: throughput does not depend on what the tokens are.
  Generator gen(o.seed);
  Tensor u = rand_uniform({o.batch_size, o.seq_len + 1}, DType::kF64, gen);
  std::vector<int32_t> ids(u.numel());
  for (int64_t i = 0; i < u.numel(); ++i) ids[i] = static_cast<int32_t>(u.data<double>()[i] * spec.vocab_size());
  std::vector<int32_t> in, tg;
  for (int64_t b = 0; b < o.batch_size; ++b) {
    for (int64_t t = 0; t < o.seq_len; ++t) {
      in.push_back(ids[b * (o.seq_len + 1) + t]);
      tg.push_back(ids[b * (o.seq_len + 1) + t + 1]);
    }
  }
  MONE_ASSIGN_OR_RETURN(Tensor inputs, Tensor::from_vector<int32_t>(in, {o.batch_size, o.seq_len}));
  MONE_ASSIGN_OR_RETURN(Tensor targets, Tensor::from_vector<int32_t>(tg, {o.batch_size, o.seq_len}));

  if (!o.save_step_dir.empty()) MONE_RETURN_IF_ERROR(save_step(o.save_step_dir, spec, params, inputs, targets));

  std::vector<double> step_times;
  double gemm_total = 0, forward_total = 0, timed_total = 0;
  for (int64_t s = 0; s < o.warmup_steps + o.steps; ++s) {
    const bool timed = s >= o.warmup_steps;
    ops::cpu::reset_gemm_time();
    ops::cpu::set_gemm_timing(timed);
    const auto start = std::chrono::steady_clock::now();
    MONE_ASSIGN_OR_RETURN(models::ModelOutput out, model->forward(inputs, targets));
    const double forward_s = seconds_since(start);
    MONE_RETURN_IF_ERROR(autograd::backward(out.loss));
    MONE_ASSIGN_OR_RETURN(StepResult r, optimizer.step(params, 1e-4, out.loss.value().item()));
    (void)r;
    zero_grads(params);
    const double step_s = seconds_since(start);
    ops::cpu::set_gemm_timing(false);
    if (!timed) continue;
    step_times.push_back(step_s);
    gemm_total += ops::cpu::gemm_seconds();
    forward_total += forward_s;
    timed_total += step_s;
  }
  TrainBenchResult res;
  std::sort(step_times.begin(), step_times.end());
  res.step_seconds = step_times[step_times.size() / 2];
  res.tokens_per_s = static_cast<double>(o.batch_size * o.seq_len) / res.step_seconds;
  res.flops_per_token = models::training_flops_per_token(spec, o.seq_len);
  res.peak_flops = o.peak_flops > 0 ? o.peak_flops : measure_peak_flops();
  res.mfu = res.flops_per_token * res.tokens_per_s / res.peak_flops;
  res.gemm_share = gemm_total / timed_total;
  res.forward_share = forward_total / timed_total;
  return res;
}

}  // namespace mone::train

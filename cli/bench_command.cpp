// mone bench train: steady-state training tokens/s, MFU and the GEMM share of a step.
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/file_io.h"
#include "models/spec.h"
#include "train/bench.h"
#include "train/machine.h"
#include "train/train_spec.h"

namespace mone::cli {

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (results belong in docs/PERF.md)");
  bench->require_subcommand(1);
  struct Args {
    std::string config, model;
    int64_t threads = 0, vocab_size = 0;
    bool json = false;
    train::TrainBenchOptions options;
  };
  auto args = std::make_shared<Args>();
  CLI::App* t = bench->add_subcommand("train", "Time training steps (forward, backward, AdamW) on random tokens");
  t->add_option("--config", args->config, "A train spec (its model, batch size and sequence length)");
  t->add_option("--model", args->model, "A model spec (instead of --config)");
  t->footer(
      "Random tokens, no data needed; nothing is written. Results belong in docs/PERF.md. Example:\n"
      "  mone bench train --config configs/train/tiny_mone.textproto --steps 5 --warmup 1");
  t->add_option("--batch-size", args->options.batch_size, "Sequences per step (default: the config's, else 16)")
      ->check(at_least(1));
  t->add_option("--seq-len", args->options.seq_len, "Tokens per sequence (default: the config's, else 64)")
      ->check(at_least(1));
  t->add_option("--steps", args->options.steps, "Timed steps (after warmup)")->check(at_least(1))->capture_default_str();
  t->add_option("--warmup", args->options.warmup_steps, "Untimed warmup steps")->check(at_least(0))->capture_default_str();
  t->add_option("--threads", args->threads, "OpenMP/BLAS threads (0: all cores)")->check(at_least(0))->capture_default_str();
  t->add_option("--vocab-size", args->vocab_size, "Override the model's vocabulary")->check(at_least(1));
  t->add_option("--peak-flops", args->options.peak_flops, "Peak FLOP/s for MFU (0: measure sgemm 512^3)")
      ->check(at_least(0))
      ->capture_default_str();
  t->add_option("--save-step", args->options.save_step_dir,
                "Also write the step's initial weights (config.json, model.safetensors) and batch "
                "(batch.safetensors) to this folder, for scripts/bench_vs_torch.sh");
  t->add_flag("--json", args->json, "One JSON object instead of text");
  set_command_action(t, [args, t]() -> Status {
    proto::ModelSpec spec;
    if (!args->config.empty()) {
      MONE_ASSIGN_OR_RETURN(proto::TrainSpec ts, train::load_train_spec(args->config));
      ts.clear_train_data();  // the benchmark draws random tokens: the spec's data need not exist
      ts.clear_val_data();
      ts.clear_tokenizer();
      MONE_RETURN_IF_ERROR(train::inline_model(ts, args->config, parent_dir(train::absolute_path(args->config))));
      spec = ts.model();
      if (t->count("--batch-size") == 0) args->options.batch_size = ts.batch_size();
      if (t->count("--seq-len") == 0) args->options.seq_len = ts.seq_len();
    } else if (!args->model.empty()) {
      MONE_ASSIGN_OR_RETURN(spec, models::load_model_spec(args->model));
    } else {
      return absl::InvalidArgumentError("give --config or --model");
    }
    if (args->vocab_size > 0) spec.set_vocab_size(args->vocab_size);
    MONE_RETURN_IF_ERROR(models::validate_model_spec(spec, args->config.empty() ? args->model : args->config));
    train::set_num_threads(args->threads);
    MONE_ASSIGN_OR_RETURN(train::TrainBenchResult r, train::bench_training(spec, args->options));
    if (args->json) {
      nlohmann::json j = {{"model", spec.name()},        {"batch_size", args->options.batch_size},
                          {"seq_len", args->options.seq_len}, {"step_s", r.step_seconds},
                          {"tokens_per_s", r.tokens_per_s},   {"mfu", r.mfu},
                          {"peak_flops", r.peak_flops},       {"gemm_share", r.gemm_share},
                          {"forward_share", r.forward_share},   {"flops_per_token", r.flops_per_token}};
      std::cout << j.dump() << "\n";
      return absl::OkStatus();
    }
    std::cout << absl::StrFormat(
        "%s: B=%d T=%d, median step %.1f ms\n  %.0f tokens/s, MFU %.3f (%.1f MFLOP/token, peak %.1f GFLOP/s)\n"
        "  GEMM share of the step %.0f%%, forward share %.0f%%\n",
        spec.name(), args->options.batch_size, args->options.seq_len, r.step_seconds * 1e3, r.tokens_per_s, r.mfu,
        r.flops_per_token * 1e-6, r.peak_flops * 1e-9, 100 * r.gemm_share, 100 * r.forward_share);
    return absl::OkStatus();
  });
}

}  // namespace mone::cli

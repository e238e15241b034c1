// mone train --config SPEC [flags] [--set field=value ...]
//
// Builds the TrainSpec (the --config file, or the resumed run's own spec), applies the flags and
// then the --set overrides, and runs train/trainer.h's run_training. docs/TRAINING.md has it all.
// Under `mpirun -np R` every rank runs this with an MPI communicator (docs/DISTRIBUTED.md).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "dist/communicator.h"
#include "core/file_io.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "train/checkpointing.h"
#include "train/machine.h"
#include "train/train_spec.h"
#include "train/trainer.h"

namespace mone::cli {
namespace {

struct TrainFlags {
  std::string config;
  std::vector<std::string> sets;
  std::optional<std::string> model, data, val_data, run_dir, device, precision, tokenizer;
  std::optional<int64_t> steps, batch_size, seq_len, threads, vocab_size, stop_after;
  std::optional<double> lr;
  std::optional<uint64_t> seed;
  bool resume = false;
  std::string resume_dir;  // --resume DIR (optional value)
};

// The spec a resumed run was trained with, from its newest valid checkpoint.
StatusOr<proto::TrainSpec> spec_of_run(const std::string& run_dir) {
  MONE_ASSIGN_OR_RETURN(std::string dir, train::find_resumable_checkpoint(run_dir));
  MONE_ASSIGN_OR_RETURN(train::TrainerState state, train::read_trainer_state(dir));
  return train::parse_train_spec(state.train_spec_text, dir + "/trainer_state.json (train_spec)");
}

// The spec this run trains with: the --config file (or the resumed run's own spec), then the
// flags, then every --set in order. Paths from flags are relative to the working directory.
StatusOr<proto::TrainSpec> build_spec(const TrainFlags& f, train::TrainOptions& options) {
  proto::TrainSpec spec;
  if (!f.config.empty()) {
    MONE_ASSIGN_OR_RETURN(spec, train::load_train_spec(f.config));
    options.source = f.config;
    options.spec_dir = parent_dir(train::absolute_path(f.config));
  } else if (f.resume && !f.resume_dir.empty()) {
    MONE_ASSIGN_OR_RETURN(spec, spec_of_run(f.resume_dir));
    options.source = f.resume_dir;
  } else if (!f.model) {
    return absl::InvalidArgumentError("give --config SPEC (or --model SPEC and --data DIR, or --resume RUN_DIR)");
  } else {
    options.source = "command line";
  }
  using train::absolute_path;
  if (f.model) {  // a model file replaces an inline model
    spec.clear_model();
    spec.set_model_spec(absolute_path(*f.model));
  }
  if (f.data) spec.set_train_data(absolute_path(*f.data));
  if (f.val_data) spec.set_val_data(absolute_path(*f.val_data));
  if (f.tokenizer) spec.set_tokenizer(absolute_path(*f.tokenizer));
  if (f.run_dir) spec.set_run_dir(absolute_path(*f.run_dir));
  if (f.resume && !f.resume_dir.empty()) spec.set_run_dir(absolute_path(f.resume_dir));
  if (f.device) spec.set_device(*f.device);
  if (f.precision) {
    MONE_ASSIGN_OR_RETURN(const proto::TrainSpec::Precision p, train::parse_precision(*f.precision));
    spec.set_precision(p);
  }
  if (f.steps) spec.set_steps(*f.steps);
  if (f.batch_size) spec.set_batch_size(*f.batch_size);
  if (f.seq_len) spec.set_seq_len(*f.seq_len);
  if (f.threads) spec.set_threads(*f.threads);
  if (f.vocab_size) spec.set_vocab_size(*f.vocab_size);
  if (f.lr) spec.set_lr(*f.lr);
  if (f.seed) spec.set_seed(*f.seed);
  for (const std::string& s : f.sets) {
    // --set model.X=V changes one field of the model that model_spec names: load it first.
    if (s.rfind("model.", 0) == 0) MONE_RETURN_IF_ERROR(train::inline_model(spec, options.source, options.spec_dir));
    MONE_RETURN_IF_ERROR(train::apply_override(spec, s));
  }
  return spec;
}

Status train_on(dist::Communicator& comm, const proto::TrainSpec& spec, train::TrainOptions options,
                const TrainFlags& f) {
  options.comm = &comm;
  options.resume = f.resume;
  options.stop_after_step = f.stop_after.value_or(0);
  MONE_ASSIGN_OR_RETURN(train::TrainSummary summary, train::run_training(spec, options));
  if (comm.rank() != 0) return absl::OkStatus();
  std::fprintf(stderr, "%s at step %lld/%lld: loss %.4f", summary.stopped_early ? "stopped" : "done",
               static_cast<long long>(summary.final_step), static_cast<long long>(summary.total_steps),
               summary.final_loss);
  if (!summary.val_losses.empty()) {
    std::fprintf(stderr, ", val loss %.4f (step %lld)", summary.val_losses.back().second,
                 static_cast<long long>(summary.val_losses.back().first));
  }
  if (!summary.last_checkpoint.empty()) std::fprintf(stderr, "; checkpoint %s", summary.last_checkpoint.c_str());
  std::fprintf(stderr, "\n");
  return absl::OkStatus();
}

Status run_train(const TrainFlags& f) {
  // The spec first (every rank reads the same files, so a bad one fails every rank alike): its
  // device picks the backend. Under mpirun: NCCL for --device cuda (its id sent over MPI), MPI for
  // the CPU; else a single process.
  train::TrainOptions options;
  MONE_ASSIGN_OR_RETURN(const proto::TrainSpec spec, build_spec(f, options));
  MONE_ASSIGN_OR_RETURN(std::unique_ptr<dist::Communicator> comm,
                        dist::open_communicator(dist::backend_for(spec.device() == "cuda")));
  const Status status = train_on(*comm, spec, options, f);
  if (!status.ok() && comm->world_size() > 1) {
    // The other ranks wait in a collective for this one: say which rank failed, and end them all.
    std::fprintf(stderr, "mone train (%s rank %d of %d): %s\n", comm->backend().c_str(), comm->rank(),
                 comm->world_size(), std::string(status.message()).c_str());
    comm->abort(1);
  }
  return status;
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model from a TrainSpec (configs/train/*.textproto)");
  cmd->footer(
      "The spec file sets everything; the flags above override single fields, then every\n"
      "--set field=value (any TrainSpec field; a field of the model as model.neuron_topk=8 changes\n"
      "that field of the model that model_spec or --model names). Relative paths in a spec file are\n"
      "found beside it first, then in the working directory; paths in flags are relative to the\n"
      "working directory. Writes RUN_DIR/metrics.jsonl (one JSON object per logged step and per\n"
      "evaluation) and checkpoints RUN_DIR/step_XXXXXXXX. SIGINT/SIGTERM save a checkpoint and stop;\n"
      "--resume continues exactly, from any working directory. docs/TRAINING.md explains every field.\n"
      "Examples (the data as `mone data prepare --help` makes it):\n"
      "  mone train --config configs/train/tiny_mone.textproto --tokenizer data/tokenizer.json --steps 40 --stop-after 20\n"
      "  mone train --resume runs/tiny_mone\n"
      "  mone train --config configs/train/tiny_mone.textproto --steps 10 --set model.neuron_topk=8 --run-dir runs/topk8\n"
      "Data parallel over R processes (docs/DISTRIBUTED.md): batch_size / R sequences per rank:\n"
      "  mpirun -np 2 mone train --config configs/train/tiny_mone.textproto --tokenizer data/tokenizer.json --steps 40 --threads 1 --run-dir runs/dp");
  cmd->add_option("--config,-c", f->config, "TrainSpec textproto");
  cmd->add_option("--set", f->sets, "Override any TrainSpec field: field=value (repeatable)")->allow_extra_args(false);
  cmd->add_option("--model", f->model, "ModelSpec textproto (replaces the spec's model)");
  cmd->add_option("--data", f->data, "Training shards: a directory, a file or a glob");
  cmd->add_option("--val-data", f->val_data, "Validation shards (same forms)");
  cmd->add_option("--run-dir", f->run_dir, "Where checkpoints and metrics.jsonl go (spec default: runs/default)");
  cmd->add_option("--steps", f->steps, "Optimizer steps, the schedule's length (spec default: 200)")->check(at_least(1));
  cmd->add_option("--batch-size,-b", f->batch_size, "B: sequences per micro-batch (spec default: 8)")->check(at_least(1));
  cmd->add_option("--seq-len,-t", f->seq_len, "T: tokens per sequence (spec default: 128)")->check(at_least(1));
  cmd->add_option("--lr", f->lr, "Peak learning rate (spec default: 0.003)")->check(above(0));
  cmd->add_option("--seed", f->seed, "Seed of the weights and the data order (spec default: 1337)");
  cmd->add_option("--device", f->device, "cpu or cuda (spec default: cpu)")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--precision", f->precision, "f32, or bf16 mixed precision on cuda (spec default: f32)")
      ->check(CLI::IsMember({"f32", "bf16"}));
  cmd->add_option("--threads", f->threads, "OpenMP and BLAS threads (0: every core; spec default: 0)")
      ->check(at_least(0));
  cmd->add_option("--vocab-size", f->vocab_size, "Override the model's vocab_size (match your tokenizer)")
      ->check(at_least(1));
  cmd->add_option("--tokenizer", f->tokenizer,
                  "The data's tokenizer.json: checked against the vocabulary, copied into the run directory");
  cmd->add_option("--stop-after", f->stop_after,
                  "Stop with a checkpoint after this step although the schedule runs to --steps")
      ->check(at_least(1));
  cmd->add_option("--resume", f->resume_dir,
                  "Continue the run in RUN_DIR (or the spec's run_dir) from its newest valid checkpoint")
      ->expected(0, 1);
  set_command_action(cmd, [f, cmd] {
    f->resume = cmd->count("--resume") > 0;
    return run_train(*f);
  });
}

}  // namespace mone::cli

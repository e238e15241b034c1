// mone eval --checkpoint DIR --data DIR|FILES [--batch-size B --seq-len T --batches N]
//           [--grads-out FILE] [--json]
//
// Loads the model of a checkpoint (its config.json and model.safetensors), reads the data in
// llm.c's order (train/data/eval_reader.h) and prints the mean CE loss, the perplexity and each
// auxiliary loss. --grads-out also writes the gradient of the mean total training loss with
// respect to every parameter, under the parameters' own names, for other frameworks to compare.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpointing.h"
#include "train/data/eval_reader.h"
#include "train/evaluate.h"
#include "train/machine.h"
#include "train/optimizer.h"
#include "train/train_spec.h"

namespace mone::cli {
namespace {

struct EvalFlags {
  std::string checkpoint;
  std::vector<std::string> data;
  int64_t batch_size = 0;  // 0: as trained, else 8
  int64_t seq_len = 0;     // 0: as trained, else max_position_embeddings
  int64_t batches = 0;  // 0: every full batch of the data
  std::string grads_out;
  int64_t threads = 0;  // 0: every core
  bool json = false;
};

// The batch size and sequence length the checkpoint was trained with (when it records its train
// spec; a bare model directory does not).
std::optional<proto::TrainSpec> trained_spec(const std::string& dir) {
  StatusOr<train::TrainerState> state = train::read_trainer_state(dir);
  if (!state.ok()) return std::nullopt;
  StatusOr<proto::TrainSpec> spec = train::parse_train_spec(state->train_spec_text, dir);
  if (!spec.ok()) return std::nullopt;
  return *spec;
}

Status write_grads(const std::string& path, const models::ParameterList& params, const train::EvalResult& r,
                   int64_t B, int64_t T) {
  std::vector<Tensor> grads;
  for (const auto& p : params) {
    if (p.param.has_grad()) {
      grads.push_back(p.param.grad());
    } else {  // no batch reached it: its gradient is zero
      MONE_ASSIGN_OR_RETURN(Tensor zero, Tensor::zeros_like(p.param.value()));
      grads.push_back(zero);
    }
  }
  return train::write_safetensors(path, models::checkpoint_tensors(params, grads),
                                  {{"what", "gradient of the mean total training loss"},
                                   {"batches", std::to_string(r.batches)},
                                   {"batch_size", std::to_string(B)},
                                   {"seq_len", std::to_string(T)},
                                   {"loss", absl::StrCat(r.mean.loss)}});
}

Status run_eval(const EvalFlags& f) {
  train::set_num_threads(f.threads);
  std::string dir;
  MONE_ASSIGN_OR_RETURN(std::unique_ptr<models::Transformer> model, train::load_model_from_checkpoint(f.checkpoint, &dir));
  const proto::ModelSpec& spec = model->spec();
  const std::optional<proto::TrainSpec> trained = trained_spec(dir);
  const int64_t B = f.batch_size > 0 ? f.batch_size : trained ? trained->batch_size() : 8;
  const int64_t T = f.seq_len > 0 ? f.seq_len : trained ? trained->seq_len() : spec.max_position_embeddings();
  if (T > spec.max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat("--seq-len ", T, " exceeds the model's max_position_embeddings (",
                                                   spec.max_position_embeddings(), ")"));
  }
  std::vector<std::string> paths;
  for (const std::string& d : f.data) {
    MONE_ASSIGN_OR_RETURN(std::vector<std::string> found, train::find_split_shards(d, "val"));
    paths.insert(paths.end(), found.begin(), found.end());
  }
  MONE_ASSIGN_OR_RETURN(train::EvalReader reader, train::EvalReader::open(paths, B, T));
  MONE_RETURN_IF_ERROR(reader.check_max_token(spec.vocab_size()));

  const bool grads = !f.grads_out.empty();
  models::ParameterList params = model->parameters();
  train::zero_grads(params);
  MONE_ASSIGN_OR_RETURN(train::EvalResult r, train::evaluate(*model, reader, f.batches, grads));
  if (grads) MONE_RETURN_IF_ERROR(write_grads(f.grads_out, params, r, B, T));

  if (f.json) {
    nlohmann::ordered_json out = train::eval_result_json(r, "");
    out["checkpoint"] = dir;
    out["batch_size"] = B;
    out["seq_len"] = T;
    if (grads) out["grads_out"] = f.grads_out;
    std::printf("%s\n", out.dump(2).c_str());
    return absl::OkStatus();
  }
  std::printf("%s (%s): %lld batches of %lld x %lld = %lld tokens\n", dir.c_str(),
              spec.name().empty() ? "model" : spec.name().c_str(), static_cast<long long>(r.batches),
              static_cast<long long>(B), static_cast<long long>(T), static_cast<long long>(r.tokens));
  std::printf("  ce loss       %.6f\n  perplexity    %.4f\n", r.mean.ce, r.perplexity());
  std::printf("  load_balance  %.6f\n  z_loss        %.6f\n  neuron_loss   %.6f\n", r.mean.load_balance, r.mean.z_loss,
              r.mean.neuron_loss);
  std::printf("  total loss    %.6f   (CE + weighted auxiliary terms)\n", r.mean.loss);
  if (grads) std::printf("  gradients of the total loss written to %s\n", f.grads_out.c_str());
  return absl::OkStatus();
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto f = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a checkpoint: CE loss, perplexity and auxiliary losses");
  cmd->footer(
      "Reads the data in order, llm.c style: batch j is tokens [j·B·T, (j+1)·B·T] of the\n"
      "concatenated shards (inputs the first B·T as [B, T], targets shifted by one). A data\n"
      "directory contributes its *val*.bin shards (all *.bin when none is named so).\n"
      "Auxiliary losses that a model does not have read 0. Example:\n"
      "  mone eval --checkpoint runs/tiny_mone --data data/fortunes --batches 16");
  cmd->add_option("--checkpoint", f->checkpoint,
                  "A checkpoint directory (step_XXXXXXXX) or a run directory (its newest valid checkpoint)")
      ->required();
  cmd->add_option("--data", f->data, "Shards: directories, files or globs")->required();
  cmd->add_option("--batch-size,-b", f->batch_size, "B: sequences per batch (default: as trained)");
  cmd->add_option("--seq-len,-t", f->seq_len, "T: tokens per sequence (default: as trained)");
  cmd->add_option("--batches,-n", f->batches, "Batches to evaluate (default: every full batch)");
  cmd->add_option("--grads-out", f->grads_out,
                  "Also write d(total loss)/d(parameter), averaged over the batches, as safetensors");
  cmd->add_option("--threads", f->threads, "OpenMP and BLAS threads (0: every core)");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  set_command_action(cmd, [f] { return run_eval(*f); });
}

}  // namespace mone::cli

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

#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "core/file_io.h"
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

// What the checkpoint records of its training (a bare model directory records nothing).
struct Trained {
  proto::TrainSpec spec;  // its batch size and sequence length are eval's defaults
  int64_t step = 0;
};
std::optional<Trained> trained_state(const std::string& dir) {
  StatusOr<train::TrainerState> state = train::read_trainer_state(dir);
  if (!state.ok()) return std::nullopt;
  StatusOr<proto::TrainSpec> spec = train::parse_train_spec(state->train_spec_text, dir);
  if (!spec.ok()) return std::nullopt;
  return Trained{*spec, state->step};
}

std::string full_precision(double x) { return absl::StrFormat("%.17g", x); }

// Metadata: enough to recompute the file (checkpoint, step, data, B, T, batches) and the loss
// at full precision.
Status write_grads(const std::string& path, const models::ParameterList& params, const train::EvalResult& r,
                   const std::string& checkpoint, const std::optional<Trained>& trained,
                   const std::vector<std::string>& data, int64_t B, int64_t T) {
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
                                   {"checkpoint", checkpoint},
                                   {"step", trained ? std::to_string(trained->step) : "unknown"},
                                   {"data", absl::StrJoin(data, ",")},
                                   {"batches", std::to_string(r.batches)},
                                   {"batch_size", std::to_string(B)},
                                   {"seq_len", std::to_string(T)},
                                   {"loss", full_precision(r.mean.loss)},
                                   {"ce", full_precision(r.mean.ce)}});
}

Status run_eval(const EvalFlags& f) {
  train::set_num_threads(f.threads);
  const bool grads = !f.grads_out.empty();
  if (grads) MONE_RETURN_IF_ERROR(prepare_output_file(f.grads_out));
  std::string dir;
  MONE_ASSIGN_OR_RETURN(std::unique_ptr<models::Transformer> model, train::load_model_from_checkpoint(f.checkpoint, &dir));
  const proto::ModelSpec& spec = model->spec();
  const std::optional<Trained> trained = trained_state(dir);
  const int64_t B = f.batch_size > 0 ? f.batch_size : trained ? trained->spec.batch_size() : 8;
  const int64_t T = f.seq_len > 0 ? f.seq_len : trained ? trained->spec.seq_len() : spec.max_position_embeddings();
  if (T > spec.max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat("--seq-len ", T, " exceeds the model's max_position_embeddings (",
                                                   spec.max_position_embeddings(), ")"));
  }
  std::vector<std::string> paths;
  for (const std::string& d : f.data) {
    MONE_ASSIGN_OR_RETURN(std::vector<std::string> found, train::find_split_shards(d, "val"));
    paths.insert(paths.end(), found.begin(), found.end());
  }
  // A batch size given by hand is taken as is; the trained one shrinks to fit small data.
  std::string note;
  MONE_ASSIGN_OR_RETURN(train::EvalReader reader, f.batch_size > 0 ? train::EvalReader::open(paths, B, T)
                                                                    : train::open_eval_reader(paths, B, T, &note));
  if (!note.empty()) std::fprintf(stderr, "note: %s\n", note.c_str());
  MONE_RETURN_IF_ERROR(reader.check_max_token(spec.vocab_size()));
  if (f.batches > reader.num_batches()) {
    return absl::OutOfRangeError(absl::StrCat("--batches ", f.batches, ": the data holds ", reader.num_batches(),
                                              " full batches of ", reader.batch_size(), " x ", T,
                                              " tokens; give at most that many (0: all of them)"));
  }

  models::ParameterList params = model->parameters();
  train::zero_grads(params);
  MONE_ASSIGN_OR_RETURN(train::EvalResult r, train::evaluate(*model, reader, f.batches, grads));
  if (grads) MONE_RETURN_IF_ERROR(write_grads(f.grads_out, params, r, dir, trained, paths, reader.batch_size(), T));

  if (f.json) {
    nlohmann::ordered_json out = train::eval_result_json(r, "");
    out["checkpoint"] = dir;
    out["batch_size"] = reader.batch_size();
    out["seq_len"] = T;
    if (grads) out["grads_out"] = f.grads_out;
    std::printf("%s\n", out.dump(2).c_str());
    return absl::OkStatus();
  }
  std::printf("%s (%s): %lld batches of %lld x %lld = %lld tokens\n", dir.c_str(),
              spec.name().empty() ? "model" : spec.name().c_str(), static_cast<long long>(r.batches),
              static_cast<long long>(reader.batch_size()), static_cast<long long>(T), static_cast<long long>(r.tokens));
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
      "  mone eval --checkpoint runs/tiny_mone --data data/fortunes --batches 4");
  cmd->add_option("--checkpoint", f->checkpoint,
                  "A checkpoint directory (step_XXXXXXXX) or a run directory (its newest valid checkpoint)")
      ->required();
  cmd->add_option("--data", f->data, "Shards: directories, files or globs")->required();
  cmd->add_option("--batch-size,-b", f->batch_size, "B: sequences per batch (default: as trained, else 8)")
      ->check(at_least(1));
  cmd->add_option("--seq-len,-t", f->seq_len,
                  "T: tokens per sequence (default: as trained, else max_position_embeddings)")
      ->check(at_least(1));
  cmd->add_option("--batches,-n", f->batches, "Batches to evaluate, at most the data's full batches (0: all of them)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_option("--grads-out", f->grads_out,
                  "Also write d(total loss)/d(parameter), averaged over the batches, as safetensors (folder created)");
  cmd->add_option("--threads", f->threads, "OpenMP and BLAS threads (0: every core)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "Print one JSON object");
  set_command_action(cmd, [f] { return run_eval(*f); });
}

}  // namespace mone::cli

// mone eval --checkpoint DIR --data DIR|FILES [--batch-size B --seq-len T --batches N]
//           [--dtype f32|f64] [--threads N] [--device cpu|cuda] [--precision f32|bf16]
//           [--grads-out FILE] [--json]
//
// Loads the model of a checkpoint (its config.json and model.safetensors), reads the data in
// llm.c's order (train/data/eval_reader.h) and prints the mean CE loss, the perplexity and each
// auxiliary loss. --grads-out also writes the gradient of the mean total training loss with
// respect to every parameter, under the parameters' own names, for other frameworks to compare.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/eval_flags.h"
#include "core/file_io.h"
#include "train/checkpoint/safetensors.h"
#include "train/evaluate.h"
#include "train/machine.h"
#include "train/optimizer.h"

namespace mone::cli {
namespace {

struct EvalCommandFlags {
  EvalFlags eval;
  std::string grads_out;
  std::string precision = "f32";
  bool json = false;
};

std::string full_precision(double x) { return absl::StrFormat("%.17g", x); }

// Metadata: enough to recompute the file (checkpoint, step, data, B, T, batches) and the loss
// at full precision.
Status write_grads(const std::string& path, const models::ParameterList& params, const train::EvalResult& r,
                   const research::EvalInput& input) {
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
                                   {"checkpoint", input.dir()},
                                   {"step", input.trained_step() ? std::to_string(*input.trained_step()) : "unknown"},
                                   {"data", absl::StrJoin(input.data_paths(), ",")},
                                   {"dtype", dtype_name(input.dtype())},
                                   {"batches", std::to_string(r.batches)},
                                   {"batch_size", std::to_string(input.batch_size())},
                                   {"seq_len", std::to_string(input.seq_len())},
                                   {"loss", full_precision(r.mean.loss)},
                                   {"ce", full_precision(r.mean.ce)}});
}

Status run_eval(EvalCommandFlags& f) {
  const bool grads = !f.grads_out.empty();
  if (grads) MONE_RETURN_IF_ERROR(prepare_output_file(f.grads_out));
  MONE_ASSIGN_OR_RETURN(const proto::TrainSpec::Precision precision, train::parse_precision(f.precision));
  MONE_ASSIGN_OR_RETURN(research::EvalInput input, open_eval_input(f.eval));
  // f32 leaves the model in its own dtype (f32, or f64 under --dtype f64); bf16 is mixed precision.
  if (precision == proto::TrainSpec::BF16) {
    MONE_RETURN_IF_ERROR(input.model().set_compute_dtype(train::compute_dtype(precision)));
  }
  const std::string& dir = input.dir();
  const proto::ModelSpec& spec = input.spec();
  const int64_t B = input.batch_size(), T = input.seq_len();

  models::ParameterList params = input.model().parameters();
  train::zero_grads(params);
  MONE_ASSIGN_OR_RETURN(train::EvalResult r, train::evaluate(input.model(), input.reader(), input.batches(), grads));
  if (grads) MONE_RETURN_IF_ERROR(write_grads(f.grads_out, params, r, input));

  if (f.json) {
    nlohmann::ordered_json out = train::eval_result_json(r, "");
    out["checkpoint"] = dir;
    out["batch_size"] = B;
    out["seq_len"] = T;
    out["dtype"] = dtype_name(input.dtype());
    if (grads) out["grads_out"] = f.grads_out;
    std::printf("%s\n", out.dump(2).c_str());
    return absl::OkStatus();
  }
  std::printf("%s (%s, %s): %lld batches of %lld x %lld = %lld tokens\n", dir.c_str(),
              spec.name().empty() ? "model" : spec.name().c_str(), dtype_name(input.dtype()),
              static_cast<long long>(r.batches), static_cast<long long>(B), static_cast<long long>(T),
              static_cast<long long>(r.tokens));
  std::printf("  ce loss       %.6f\n  perplexity    %.4f\n", r.mean.ce, r.perplexity());
  std::printf("  load_balance  %.6f\n  z_loss        %.6f\n  neuron_loss   %.6f\n", r.mean.load_balance, r.mean.z_loss,
              r.mean.neuron_loss);
  std::printf("  total loss    %.6f   (CE + weighted auxiliary terms)\n", r.mean.loss);
  if (grads) std::printf("  gradients of the total loss written to %s\n", f.grads_out.c_str());
  return absl::OkStatus();
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto f = std::make_shared<EvalCommandFlags>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a checkpoint: CE loss, perplexity and auxiliary losses");
  cmd->footer(
      "Reads the data in order, llm.c style: batch j is tokens [j·B·T, (j+1)·B·T] of the\n"
      "concatenated shards (inputs the first B·T as [B, T], targets shifted by one). A data\n"
      "directory contributes its *val*.bin shards (all *.bin when none is named so).\n"
      "Auxiliary losses that a model does not have read 0. --dtype f64 evaluates the f32\n"
      "weights in double precision (exact gradients; ties at the K_N boundary broken by real\n"
      "differences, not by rounding). Examples:\n"
      "  mone eval --checkpoint runs/tiny_mone --data data/fortunes --batches 4\n"
      "  mone eval --checkpoint runs/tiny_mone --data data/fortunes --batches 2 --dtype f64 --grads-out runs/grads.safetensors");
  add_eval_flags(cmd, f->eval, "f32 or f64: the precision of the evaluation (default f32)");
  cmd->add_option("--grads-out", f->grads_out,
                  "Also write d(total loss)/d(parameter), averaged over the batches, as safetensors (in the dtype; folder created)");
  cmd->add_option("--precision", f->precision, "f32, or bf16 mixed precision (cuda only)")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "Print one JSON object");
  set_command_action(cmd, [f] { return run_eval(*f); });
}

}  // namespace mone::cli

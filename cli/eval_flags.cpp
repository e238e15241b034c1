#include "cli/eval_flags.h"

#include <cstdio>

#include "cli/usage.h"
#include "train/machine.h"

namespace mone::cli {

void add_eval_flags(CLI::App* cmd, EvalFlags& f, const std::string& dtype_help) {
  cmd->add_option("--checkpoint", f.input.checkpoint,
                  "A checkpoint directory (step_XXXXXXXX) or a run directory (its newest valid checkpoint)")
      ->required();
  cmd->add_option("--data", f.input.data, "Shards: directories (their *val*.bin), files or globs")->required();
  cmd->add_option("--batch-size,-b", f.input.batch_size, "B: sequences per batch (default: as trained, else 8)")
      ->check(at_least(1));
  cmd->add_option("--seq-len,-t", f.input.seq_len,
                  "T: tokens per sequence (default: as trained, else max_position_embeddings)")
      ->check(at_least(1));
  cmd->add_option("--batches,-n", f.input.batches, "Batches to use, at most the data's full batches (0: all of them)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_option("--dtype", f.dtype, dtype_help)->check(CLI::IsMember({"f32", "f64"}));
  cmd->add_option("--threads", f.threads, "OpenMP and BLAS threads (0: every core)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_option("--device", f.device, "cpu or cuda (f32 only; what the command reads comes back to the host)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
}

StatusOr<research::EvalInput> open_eval_input(EvalFlags& f) {
  train::set_num_threads(f.threads);
  MONE_ASSIGN_OR_RETURN(f.input.dtype, research::parse_model_dtype(f.dtype, "--dtype"));
  // Refused before the device is looked for, so the reason is the same with a GPU or without.
  MONE_RETURN_IF_ERROR(research::check_device_dtype(f.device == "cuda", f.input.dtype));
  MONE_ASSIGN_OR_RETURN(f.input.device, train::parse_device(f.device));
  MONE_ASSIGN_OR_RETURN(research::EvalInput input, research::EvalInput::open(f.input));
  if (!input.note().empty()) std::fprintf(stderr, "note: %s\n", input.note().c_str());
  return input;
}

void add_result_flags(CLI::App* cmd, ResultFlags& f, const std::string& files) {
  cmd->add_option("--out", f.out, "Also write " + files + " into this directory (created when missing)");
  cmd->add_flag("--json", f.json, "Print one JSON object instead of the table");
}

Status emit_result(const ResultFlags& f, const CommandResultOutput& r) {
  if (!f.out.empty()) MONE_RETURN_IF_ERROR(r.write(f.out));
  if (f.json) {
    std::printf("%s\n", r.json.dump(2).c_str());
    return absl::OkStatus();
  }
  std::printf("%s", r.table.c_str());
  if (!f.out.empty()) std::printf("  wrote %s into %s\n", r.files.c_str(), f.out.c_str());
  return absl::OkStatus();
}

}  // namespace mone::cli

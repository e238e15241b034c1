// The flags of every command that evaluates a checkpoint on data (eval, gradstudy, analyze,
// sparsify): --checkpoint, --data, --batch-size, --seq-len, --batches, --dtype, --threads. One
// definition, so the commands take the same flags and, given the same values, the same batches.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "research/eval_input.h"

namespace mone::cli {

struct EvalFlags {
  research::EvalInputOptions input;
  std::string dtype = "f32";
  int64_t threads = 0;  // 0: every core
};

// Adds the flags to `cmd`; `dtype_help` says what the dtype is for and its default.
void add_eval_flags(CLI::App* cmd, EvalFlags& flags, const std::string& dtype_help);

// Sets the thread count, then opens the checkpoint and the data (research::EvalInput::open).
StatusOr<research::EvalInput> open_eval_input(EvalFlags& flags);

}  // namespace mone::cli

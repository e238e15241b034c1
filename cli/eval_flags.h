// The flags of every command that evaluates a checkpoint on data (eval, gradstudy, analyze,
// sparsify): --checkpoint, --data, --batch-size, --seq-len, --batches, --dtype, --threads,
// --device. One
// definition, so the commands take the same flags and, given the same values, the same batches.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "research/eval_input.h"

namespace mone::cli {

struct EvalFlags {
  research::EvalInputOptions input;
  std::string dtype = "f32";
  int64_t threads = 0;  // 0: every core
  std::string device = "cpu";
};

// Adds the flags to `cmd`; `dtype_help` says what the dtype is for and its default.
void add_eval_flags(CLI::App* cmd, EvalFlags& flags, const std::string& dtype_help);

// Sets the thread count, then opens the checkpoint and the data (research::EvalInput::open), the
// model on --device.
StatusOr<research::EvalInput> open_eval_input(EvalFlags& flags);

// --out DIR and --json of the research commands (gradstudy, analyze, sparsify).
struct ResultFlags {
  std::string out;
  bool json = false;
};
void add_result_flags(CLI::App* cmd, ResultFlags& flags, const std::string& files);

// What a research command produced: written into --out by `write` when given, then printed as
// JSON (--json) or as the table, followed by a line naming the files written.
struct CommandResultOutput {
  nlohmann::ordered_json json;
  std::string table;
  std::function<Status(const std::string& dir)> write;
  std::string files;  // "x.json, x.csv and x.svg", for the line after the table
};
Status emit_result(const ResultFlags& flags, const CommandResultOutput& result);

}  // namespace mone::cli

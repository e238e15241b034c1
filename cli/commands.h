// The subcommands of the `mone` binary, one file each (cli/<name>_command.cpp).
//
// To add a subcommand: write cli/<name>_command.cpp defining add_<name>_command (it creates the
// subcommand, its flags and its action with set_command_action), declare it below, and call it
// from main(). That is all: the build globs cli/*.cpp.
#pragma once

#include <functional>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/usage.h"
#include "core/status.h"

namespace mone::cli {

// mone inspect SPEC: parameter counts, FLOPs and memory of a model spec.
void add_inspect_command(CLI::App& app);
// mone tokenizer train: byte-level BPE from text.
void add_tokenizer_command(CLI::App& app);
// mone data prepare: text -> llm.c token shards.
void add_data_command(CLI::App& app);
// mone generate: sample from a checkpoint.
void add_generate_command(CLI::App& app);
// mone bench train: training throughput, MFU and GEMM share.
void add_bench_command(CLI::App& app);
// mone train --config SPEC: the training loop (docs/TRAINING.md).
void add_train_command(CLI::App& app);
// mone eval --checkpoint DIR --data DIR: CE loss, perplexity, auxiliary losses, gradients.
void add_eval_command(CLI::App& app);
// mone runs RUN_DIR...: checkpoints and metrics of run directories.
void add_runs_command(CLI::App& app);
// mone import --from DIR --out DIR: a Hugging Face MoE model as a mone model (docs/INTEROP.md).
void add_import_command(CLI::App& app);
// mone export --checkpoint DIR --to DIR: a mone model as a Hugging Face transformers model.
void add_export_command(CLI::App& app);

// Makes `run` the action of subcommand `cmd`; CLI11 calls it once cmd's flags are parsed.
// A failed Status prints "mone <cmd>: <message>" to stderr and makes `mone` exit with 1
// (CLI::RuntimeError: run_command_line turns it into the exit code and prints nothing more).
// Messages therefore never start with the command's name themselves.
inline void set_command_action(CLI::App* cmd, std::function<Status()> run) {
  cmd->callback([cmd, run = std::move(run)] {
    const Status status = run();
    if (status.ok()) return;
    std::cerr << command_name(*cmd) << ": " << status.message() << "\n";
    throw CLI::RuntimeError(kExitFailed);
  });
}

}  // namespace mone::cli

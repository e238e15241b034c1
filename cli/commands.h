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
// The research tools (docs/RESEARCH.md): mone gradstudy, analyze, sparsify, report.
void add_gradstudy_command(CLI::App& app);
void add_analyze_command(CLI::App& app);
void add_sparsify_command(CLI::App& app);
void add_report_command(CLI::App& app);

// Makes `run` the action of subcommand `cmd`; CLI11 calls it once cmd's flags are parsed.
// A failed Status prints "mone <cmd>: <message>" to stderr and makes `mone` exit with 1
// (CLI::RuntimeError: main() turns it into the exit code and prints nothing more).
inline void set_command_action(CLI::App* cmd, std::function<Status()> run) {
  cmd->callback([cmd, run = std::move(run)] {
    const Status status = run();
    if (status.ok()) return;
    std::string name = cmd->get_name();  // "bench train", not just "train"
    for (const CLI::App* p = cmd->get_parent(); p != nullptr && p->get_parent() != nullptr; p = p->get_parent()) {
      name = p->get_name() + " " + name;
    }
    std::cerr << "mone " << name << ": " << status.message() << "\n";
    throw CLI::RuntimeError(1);
  });
}

}  // namespace mone::cli

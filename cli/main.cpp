// The `mone` binary: one app, one subcommand per file.
//
// Adding a subcommand takes one new file and two lines: write cli/<name>_command.cpp with
// `void add_<name>_command(CLI::App& app)`, declare it in cli/commands.h, and call it below.
// Each subcommand runs from its own callback (set_command_action in commands.h), so main() only
// builds the app; run_command_line (cli/usage.h) turns usage errors and failed commands into
// exit codes.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/usage.h"

int main(int argc, char** argv) {
  CLI::App app{
      "mone: a from-scratch C++ runtime for Mixture-of-Experts (MoE) and Mixture of Neuron\n"
      "Experts (MoNE) transformers. It trains, evaluates, analyses and samples such models\n"
      "without Python. Models are described by ModelSpec textprotos (configs/models/,\n"
      "docs/SPECS.md).",
      "mone"};
  app.footer(
      "Run `mone <command> --help` for a command's arguments and flags.\n"
      "Exit codes: 0 done; 1 the command failed (the message names the file, field or value);\n"
      "2 usage error (unknown command or flag, missing or out-of-range flag value).");
  app.require_subcommand(1);
  mone::cli::use_help_format(app);

  mone::cli::add_inspect_command(app);
  mone::cli::add_tokenizer_command(app);
  mone::cli::add_data_command(app);
  mone::cli::add_train_command(app);
  mone::cli::add_eval_command(app);
  mone::cli::add_generate_command(app);
  mone::cli::add_runs_command(app);
  mone::cli::add_import_command(app);
  mone::cli::add_export_command(app);
  mone::cli::add_bench_command(app);

  return mone::cli::run_command_line(app, argc, argv);
}

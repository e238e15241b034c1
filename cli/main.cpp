// The `mone` binary: one app, one subcommand per file.
//
// Adding a subcommand takes one new file and two lines: write cli/<name>_command.cpp with
// `void add_<name>_command(CLI::App& app)`, declare it in cli/commands.h, and call it below.
// Each subcommand runs from its own callback (set_command_action in commands.h), so main() only
// builds the app and turns parse errors and failed commands into exit codes.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "mone: a from-scratch C++ runtime for Mixture-of-Experts (MoE) and Mixture of Neuron\n"
      "Experts (MoNE) transformers. It trains, evaluates, analyses and samples such models\n"
      "without Python. Models are described by ModelSpec textprotos (configs/models/,\n"
      "docs/SPECS.md).",
      "mone"};
  app.footer("Run `mone <command> --help` for a command's arguments and flags.");
  app.require_subcommand(1);
  app.get_formatter()->column_width(32);

  mone::cli::add_inspect_command(app);
  mone::cli::add_tokenizer_command(app);
  mone::cli::add_data_command(app);
  mone::cli::add_train_command(app);
  mone::cli::add_eval_command(app);
  mone::cli::add_generate_command(app);
  mone::cli::add_bench_command(app);
  mone::cli::add_gradstudy_command(app);
  mone::cli::add_analyze_command(app);
  mone::cli::add_sparsify_command(app);
  mone::cli::add_report_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Error& e) {
    // --help, bad flags (printed by CLI11) and failed commands (already printed) end here.
    return app.exit(e);
  }
  return 0;
}

// mone analyze --checkpoint DIR --data DIR [--bins N] [--out DIR] [--json]
//              (+ the evaluation flags of cli/eval_flags.h)
//
// Selection diagnostics per routed layer and expert (research/analyze.h, docs/RESEARCH.md).
#include <memory>

#include "cli/commands.h"
#include "cli/eval_flags.h"
#include "research/analyze.h"

namespace mone::cli {
namespace {

constexpr char kAnalyzeFiles[] = "analysis.json, experts.csv, neurons.csv and the plots (*.svg)";

struct AnalyzeFlags {
  EvalFlags eval;
  research::AnalyzeOptions options;
  ResultFlags result;
};

Status run_analyze(AnalyzeFlags& f) {
  MONE_ASSIGN_OR_RETURN(research::EvalInput input, open_eval_input(f.eval));
  MONE_ASSIGN_OR_RETURN(research::AnalysisResult r, research::run_analyze(input, f.options));
  return emit_result(f.result, {research::analysis_json(r), research::analysis_table(r),
                                [&](const std::string& dir) { return research::write_analysis(dir, r); },
                                kAnalyzeFiles});
}

}  // namespace

void add_analyze_command(CLI::App& app) {
  auto f = std::make_shared<AnalyzeFlags>();
  CLI::App* cmd = app.add_subcommand("analyze", "Neuron selection diagnostics per layer and expert");
  cmd->footer(
      "Per routed layer and expert: histograms of |G| and of the relative margin at the K_N\n"
      "boundary, the sign mix of the selected G, tokens per expert, each neuron's selection\n"
      "frequency (variance, entropy) and the dead neurons. Prints one line per layer; --out\n"
      "writes analysis.json, experts.csv, neurons.csv and SVG plots. --dtype f64 ranks the\n"
      "neurons without f32 rounding. Examples:\n"
      "  mone analyze --checkpoint runs/tiny_mone --data data/fortunes --batches 2\n"
      "  mone analyze --checkpoint runs/tiny_mone --data data/fortunes --batches 2 --dtype f64 --out runs/tiny_mone/analysis");
  add_eval_flags(cmd, f->eval, "f32 or f64: the precision of the forward that selects (default f32)");
  cmd->add_option("--bins", f->options.bins, "Bins of the |G| histograms (default 50)");
  add_result_flags(cmd, f->result, kAnalyzeFiles);
  set_command_action(cmd, [f] { return run_analyze(*f); });
}

}  // namespace mone::cli

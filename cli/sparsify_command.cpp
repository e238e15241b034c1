// mone sparsify --checkpoint DIR --data DIR [--keep 1,0.8,...] [--selector NAME] [--shared]
//               [--out DIR] [--json]  (+ the evaluation flags of cli/eval_flags.h)
//
// The sparsification study (research/sparsify.h, docs/RESEARCH.md): loss and perplexity when every
// routed expert keeps only the top fraction of its neurons, for each fraction.
#include <memory>

#include "cli/commands.h"
#include "cli/eval_flags.h"
#include "research/sparsify.h"

namespace mone::cli {
namespace {

constexpr char kSparsifyFiles[] = "sparsify.json, sparsify.csv and sparsify_loss.svg";

struct SparsifyFlags {
  EvalFlags eval;
  std::string keep = "1,0.8,0.6,0.4,0.2,0.1,0.05";
  std::string selector;
  bool shared = false;
  ResultFlags result;
};

Status run_sparsify(SparsifyFlags& f) {
  research::SparsifyOptions o;
  MONE_ASSIGN_OR_RETURN(o.keep, research::parse_keep_ratios(f.keep, "--keep"));
  if (!f.selector.empty()) {
    MONE_ASSIGN_OR_RETURN(o.selector, research::parse_neuron_selector(f.selector, "--selector"));
  }
  o.shared = f.shared;
  MONE_ASSIGN_OR_RETURN(research::EvalInput input, open_eval_input(f.eval));
  MONE_ASSIGN_OR_RETURN(research::SparsifyResult r, research::run_sparsify(input, o));
  return emit_result(f.result, {research::sparsify_json(r), research::sparsify_table(r),
                                [&](const std::string& dir) { return research::write_sparsify(dir, r); },
                                kSparsifyFiles});
}

}  // namespace

void add_sparsify_command(CLI::App& app) {
  auto f = std::make_shared<SparsifyFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sparsify", "Post-hoc sparsification: loss when each routed expert keeps only its top neurons");
  cmd->footer(
      "For each kept fraction r, every routed expert keeps K_N' = max(1, round(r·K_N)) neurons per\n"
      "token (K_N = D for a MoE), ranked by the selector; --shared also sparsifies the shared\n"
      "experts. Each r is evaluated on the same batches as `mone eval`: r = 1 with the model's own\n"
      "selector reproduces `mone eval` exactly. Examples:\n"
      "  mone sparsify --checkpoint runs/tiny_mone --data data/fortunes --batches 2\n"
      "  mone sparsify --checkpoint runs/tiny_mone --data data/fortunes --batches 2 --keep 1,0.5,0.25 --selector abs_gate_times_up --shared --out runs/tiny_mone/sparsify");
  add_eval_flags(cmd, f->eval, "f32 or f64: the precision of the evaluation (default f32)");
  cmd->add_option("--keep", f->keep, "Kept fractions in (0, 1], comma-separated (default 1,0.8,0.6,0.4,0.2,0.1,0.05)");
  cmd->add_option("--selector", f->selector,
                  "abs_gate | signed_gate | abs_gate_times_up | abs_gate_threshold (default: the model's)");
  cmd->add_flag("--shared", f->shared, "Sparsify the shared experts too (the same fraction of their neurons)");
  add_result_flags(cmd, f->result, kSparsifyFiles);
  set_command_action(cmd, [f] { return run_sparsify(*f); });
}

}  // namespace mone::cli

// mone gradstudy --checkpoint DIR --data DIR [--batches N] [--loss total|ce] [--lr LR] [--out DIR]
//                [--json]  (+ the evaluation flags of cli/eval_flags.h; --dtype defaults to f64)
//
// The gradients through the neuron top-k under HARD, STRAIGHT_THROUGH and the dense model, the
// gradient mass on selected neurons, and the selection flips after one step (research/gradstudy.h).
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/eval_flags.h"
#include "research/gradstudy.h"

namespace mone::cli {
namespace {

constexpr char kGradstudyFiles[] = "gradstudy.json, gradstudy.csv and gradstudy_cosine.svg";

struct GradstudyFlags {
  EvalFlags eval;
  std::string loss = "total";
  std::optional<double> lr;
  ResultFlags result;
};

Status run_gradstudy(GradstudyFlags& f) {
  research::GradstudyOptions o;
  o.ce_only = f.loss == "ce";
  o.lr = f.lr;
  MONE_ASSIGN_OR_RETURN(research::EvalInput input, open_eval_input(f.eval));
  MONE_ASSIGN_OR_RETURN(research::GradstudyResult r, research::run_gradstudy(input, o));
  return emit_result(f.result, {research::gradstudy_json(r), research::gradstudy_table(r),
                                [&](const std::string& dir) { return research::write_gradstudy(dir, r); },
                                kGradstudyFiles});
}

}  // namespace

void add_gradstudy_command(CLI::App& app) {
  auto f = std::make_shared<GradstudyFlags>();
  f->eval.dtype = "f64";
  f->eval.input.batches = 1;
  CLI::App* cmd = app.add_subcommand(
      "gradstudy", "Gradients through the neuron top-k: HARD vs STRAIGHT_THROUGH vs dense, and selection flips");
  cmd->footer(
      "On the same batches and weights: the gradient under HARD, under STRAIGHT_THROUGH and of the\n"
      "dense model (K_N = D), per layer and parameter group (norms, cosines); the share of the\n"
      "gradient mass on the selected neurons; and how many selections flip after one AdamW step\n"
      "from the checkpoint (its moments, its train spec's hyper-parameters and learning rate).\n"
      "Batches default to 1 and the dtype to f64 (exact gradients). Examples:\n"
      "  mone gradstudy --checkpoint runs/tiny_mone --data data/fortunes\n"
      "  mone gradstudy --checkpoint runs/tiny_mone --data data/fortunes --batches 2 --loss ce --out runs/tiny_mone/gradstudy");
  add_eval_flags(cmd, f->eval, "f32 or f64: the precision of the gradients (default f64)");
  cmd->add_option("--loss", f->loss, "total (the training loss, default) or ce (cross-entropy alone)")
      ->check(CLI::IsMember({"total", "ce"}));
  cmd->add_option("--lr", f->lr, "The learning rate of the step (default: the checkpoint's)");
  add_result_flags(cmd, f->result, kGradstudyFiles);
  set_command_action(cmd, [f] { return run_gradstudy(*f); });
}

}  // namespace mone::cli

// mone claims STUDY_DIR [--json]
//
// The verdicts of a reproduction study (research/claims.h, docs/REPRODUCTION.md): reads the runs
// that scripts/reproduce.sh wrote under STUDY_DIR/runs, writes STUDY_DIR/summary.md,
// summary.json and sweep.svg, and prints the markdown (or the JSON).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "research/claims.h"

namespace mone::cli {
namespace {

struct ClaimsFlags {
  std::string dir;
  bool json = false;
};

Status run_claims(const ClaimsFlags& f) {
  MONE_ASSIGN_OR_RETURN(research::StudySummary s, research::summarize_study(f.dir));
  MONE_RETURN_IF_ERROR(research::write_summary(s));
  if (f.json) {
    std::printf("%s\n", research::summary_json(s).dump(2).c_str());
  } else {
    std::printf("%s", research::summary_markdown(s).c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void add_claims_command(CLI::App& app) {
  auto f = std::make_shared<ClaimsFlags>();
  CLI::App* cmd = app.add_subcommand("claims", "Judge the paper's claims on a reproduction study (scripts/reproduce.sh)");
  cmd->footer(
      "STUDY_DIR holds runs/SETTING/seedN/ as scripts/reproduce.sh writes them: each run's\n"
      "checkpoints, eval.json (`mone eval --json`), analysis/ and, for MoE, sparsify/. Settings\n"
      "named moe, mone, moe_same_activated and mone_no_nglbl decide the four claims; other\n"
      "MoNE settings with mone's K and K_N compare selectors; moe and sweep_* form the K vs K_N\n"
      "sweep. A difference counts only beyond the larger seed spread (max - min over seeds) of\n"
      "the two settings; below it, it is noise. Writes STUDY_DIR/summary.md, summary.json and\n"
      "sweep.svg. docs/REPRODUCTION.md. Example, after `bash scripts/reproduce.sh --quick`:\n"
      "  mone claims runs/reproduce-quick");
  cmd->add_option("study_dir", f->dir, "The study directory (scripts/reproduce.sh --out)")->required();
  cmd->add_flag("--json", f->json, "Print summary.json instead of the markdown");
  set_command_action(cmd, [f] { return run_claims(*f); });
}

}  // namespace mone::cli

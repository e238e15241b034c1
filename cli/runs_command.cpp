// mone runs RUN_DIR...: each run's checkpoints (step, train and val loss, training time, when
// written) and a summary of its metrics.jsonl. Reads trainer_state.json and metrics.jsonl only.
#include <cstdio>

#include "cli/commands.h"
#include "core/file_io.h"
#include "train/metrics.h"
#include "train/run_summary.h"

namespace mone::cli {
namespace {

struct RunsFlags {
  std::vector<std::string> run_dirs;
  bool json = false;
};

// "5.2113", or "5.2113 (step 90)" when the value comes from another step than `step`.
std::string loss_at(const std::optional<train::StepValue>& v, int64_t step, bool always_step) {
  if (!v) return "-";
  if (!always_step && v->step == step) return absl::StrFormat("%.4f", v->value);
  return absl::StrFormat("%.4f (step %d)", v->value, v->step);
}

void print_run(const train::RunSummary& run) {
  std::printf("%s", run.run_dir.c_str());
  if (run.total_steps > 0) {
    std::printf("  (%s, %lld steps scheduled)", run.model_name.empty() ? "model" : run.model_name.c_str(),
                static_cast<long long>(run.total_steps));
  }
  std::printf("\n");
  if (run.checkpoints.empty()) {
    std::printf("  no checkpoints\n");
  } else {
    std::printf("  %-15s %8s  %-20s %-22s %-9s %s\n", "checkpoint", "step", "train loss", "val loss", "trained",
                "written");
  }
  for (const train::CheckpointSummary& c : run.checkpoints) {
    const std::string name = base_name(c.dir);
    if (!c.problem.empty()) {
      std::printf("  %-15s %8lld  unreadable: %s\n", name.c_str(), static_cast<long long>(c.step), c.problem.c_str());
      continue;
    }
    std::printf("  %-15s %8lld  %-20s %-22s %-9s %s\n", name.c_str(), static_cast<long long>(c.step),
                loss_at(c.train_loss, c.step, false).c_str(), loss_at(c.val_loss, c.step, true).c_str(),
                train::format_duration(c.elapsed_s).c_str(), c.written.c_str());
  }
  if (!run.metrics) {
    std::printf("  no metrics.jsonl\n");
    return;
  }
  const train::MetricsSummary& m = *run.metrics;
  std::printf("  metrics.jsonl: %lld training records, %lld evaluations", static_cast<long long>(m.train_records),
              static_cast<long long>(m.eval_records));
  if (m.first_loss && m.last_loss) {
    std::printf("; loss %.4f (step %lld) -> %.4f (step %lld)", m.first_loss->value,
                static_cast<long long>(m.first_loss->step), m.last_loss->value, static_cast<long long>(m.last_loss->step));
  }
  std::printf("\n");
  if (m.best_val && m.last_val) {
    std::printf("    val loss: best %.4f (step %lld), last %.4f (step %lld)\n", m.best_val->value,
                static_cast<long long>(m.best_val->step), m.last_val->value, static_cast<long long>(m.last_val->step));
  }
  if (m.train_records > 0) {
    std::printf("    %lld tokens trained, %.0f tokens/s on average, %lld skipped step(s)\n",
                static_cast<long long>(m.tokens), m.mean_tokens_per_s, static_cast<long long>(m.skipped_steps));
  }
}

Status run_runs(const RunsFlags& f) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (size_t i = 0; i < f.run_dirs.size(); ++i) {
    MONE_ASSIGN_OR_RETURN(train::RunSummary run, train::summarize_run(f.run_dirs[i]));
    if (f.json) {
      all.push_back(train::run_summary_json(run));
      continue;
    }
    if (i > 0) std::printf("\n");
    print_run(run);
  }
  if (f.json) std::printf("%s\n", all.dump(2).c_str());
  return absl::OkStatus();
}

}  // namespace

void add_runs_command(CLI::App& app) {
  auto f = std::make_shared<RunsFlags>();
  CLI::App* cmd = app.add_subcommand("runs", "List run directories: checkpoints with their losses, and metrics.jsonl");
  cmd->footer(
      "For each checkpoint: its step, the training loss logged at (or last before) it, the last\n"
      "validation loss before it with its step, the training time so far and when it was written.\n"
      "Then metrics.jsonl in brief: records, first and last loss, best and last validation loss,\n"
      "tokens and mean tokens/s. Nothing is loaded but trainer_state.json and metrics.jsonl. Example:\n"
      "  mone runs runs/tiny_mone runs/topk8");
  cmd->add_option("run_dirs", f->run_dirs, "Run directories (as given to mone train --run-dir)")->required();
  cmd->add_flag("--json", f->json, "Print one JSON array, one object per run");
  set_command_action(cmd, [f] { return run_runs(*f); });
}

}  // namespace mone::cli

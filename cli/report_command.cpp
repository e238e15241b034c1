// mone report RUN_DIR... --out page.html [--title TEXT]
//
// One HTML page with the training curves of several runs side by side and each run's analysis
// plots (report/run_report.h, docs/RESEARCH.md).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/file_io.h"
#include "report/run_report.h"

namespace mone::cli {
namespace {

struct ReportFlags {
  report::ReportOptions options;
  std::string out;
};

Status run_report(const ReportFlags& f) {
  MONE_ASSIGN_OR_RETURN(std::string html, report::run_report_html(f.options));
  MONE_RETURN_IF_ERROR(write_string_atomic(f.out, html));
  std::printf("wrote %s (%zu runs)\n", f.out.c_str(), f.options.run_dirs.size());
  return absl::OkStatus();
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto f = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand("report", "One HTML page: training curves of several runs and their analysis plots");
  cmd->footer(
      "Each RUN_DIR is a run directory (its metrics.jsonl). The page plots every run's curves\n"
      "together, one chart per metric, and shows the SVG plots found in RUN_DIR/analysis,\n"
      "RUN_DIR/sparsify and RUN_DIR/gradstudy (where `mone analyze`, `mone sparsify` and\n"
      "`mone gradstudy` write with --out). The page is self-contained (inline SVG). Example:\n"
      "  mone report runs/tiny_mone --out runs/report.html");
  cmd->add_option("run_dirs", f->options.run_dirs, "Run directories")->required();
  cmd->add_option("--out", f->out, "The HTML file to write")->required();
  cmd->add_option("--title", f->options.title, "The page's title (default \"mone report\")");
  set_command_action(cmd, [f] { return run_report(*f); });
}

}  // namespace mone::cli

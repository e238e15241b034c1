// The HTML report of `mone report RUN_DIR...`: one self-contained page (inline SVG, no scripts,
// no network) with
//   - a table of each run (steps, tokens, last train CE, best and last validation loss);
//   - the training curves of every run, side by side: one chart per metric, one line per run;
//   - each run's analysis plots: every *.svg that `mone analyze`, `mone sparsify` and
//     `mone gradstudy` wrote into RUN_DIR/analysis, RUN_DIR/sparsify and RUN_DIR/gradstudy.
// The page is well-formed XML (XHTML), so the same checker that reads the SVG files reads it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "report/charts.h"

namespace mone::report {

// Every numeric top-level key of metrics.jsonl as a series over "step" (training lines and
// evaluation lines alike; a key missing from a line is skipped there). Lines that are not JSON
// objects with an integer "step" are skipped (a log cut by a crash). Errors name the path.
StatusOr<std::map<std::string, Series>> read_metrics_series(const std::string& path);

// The metrics the report plots, in this order, when a run has them.
const std::vector<std::string>& report_metrics();

// The folders of a run directory whose *.svg files the report shows, in this order.
const std::vector<std::string>& report_plot_folders();

struct ReportOptions {
  std::vector<std::string> run_dirs;  // each holds metrics.jsonl (and optionally the plot folders)
  std::string title = "mone report";
};

// The page. Errors name the run directory that has no readable metrics.jsonl.
StatusOr<std::string> run_report_html(const ReportOptions& options);

}  // namespace mone::report

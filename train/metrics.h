// Metrics: one JSON object per logged step appended to <run_dir>/metrics.jsonl, and a progress
// line (step, loss, tokens/s, ETA) for a terminal.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mone::train {

class MetricsLog {
 public:
  // Opens (appends to) path; errors name the file.
  static StatusOr<MetricsLog> open(const std::string& path);
  MetricsLog(MetricsLog&& other) noexcept : file_(other.file_), path_(std::move(other.path_)) { other.file_ = nullptr; }
  MetricsLog(const MetricsLog&) = delete;
  ~MetricsLog();
  // Writes one line and flushes it, so a crash loses at most the line being written. Keys keep
  // the order they were inserted in (step first reads best).
  Status write(const nlohmann::ordered_json& record);

 private:
  MetricsLog(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
};

// Resuming at `step`: keeps the lines of path whose "step" is <= step and drops the rest (records
// of steps after the checkpoint, which the resumed run computes again, and a torn last line), so
// the log reads as if the run had never stopped. A missing file is fine. Rewrites atomically.
Status truncate_metrics_after(const std::string& path, int64_t step);

// Moves an existing `path` to the first free path.1, path.2, ... and returns that name; "" when
// there is no file to move. For a new run that finds an earlier run's log.
StatusOr<std::string> set_aside(const std::string& path);

// "step 120/400 | loss 3.214 | 5.1k tok/s | ETA 1m05s"
std::string progress_line(int64_t step, int64_t total_steps, double loss, double tokens_per_s, double eta_s);
// "1m05s", "2h03m", "12s"
std::string format_duration(double seconds);

}  // namespace mone::train

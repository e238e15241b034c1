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
  // Writes one line and flushes it, so a crash loses at most the line being written.
  Status write(const nlohmann::json& record);

 private:
  MetricsLog(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
};

// "step 120/400 | loss 3.214 | 5.1k tok/s | ETA 1m05s"
std::string progress_line(int64_t step, int64_t total_steps, double loss, double tokens_per_s, double eta_s);
// "1m05s", "2h03m", "12s"
std::string format_duration(double seconds);

}  // namespace mone::train

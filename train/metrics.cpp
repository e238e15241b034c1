#include "train/metrics.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/file_io.h"

namespace mone::train {

StatusOr<MetricsLog> MetricsLog::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open the metrics log: ", std::strerror(errno)));
  }
  return MetricsLog(f, path);
}

MetricsLog::~MetricsLog() {
  if (file_ != nullptr) std::fclose(file_);
}

Status MetricsLog::write(const nlohmann::ordered_json& record) {
  const std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    return absl::DataLossError(absl::StrCat(path_, ": writing the metrics log failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

Status truncate_metrics_after(const std::string& path, int64_t step) {
  StatusOr<std::string> text = read_file_to_string(path);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  MONE_RETURN_IF_ERROR(text.status());
  std::istringstream in(*text);
  std::string line, kept;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded() || !record.is_object()) continue;
    const auto it = record.find("step");
    if (it != record.end() && it->is_number_integer() && it->get<int64_t>() > step) continue;
    kept += line + "\n";
  }
  if (kept == *text) return absl::OkStatus();
  return write_string_atomic(path, kept);
}

StatusOr<std::string> set_aside(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::string();
  for (int i = 1;; ++i) {
    const std::string aside = absl::StrCat(path, ".", i);
    if (std::filesystem::exists(aside, ec)) continue;
    MONE_RETURN_IF_ERROR(rename_path(path, aside));
    return aside;
  }
}

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e9) return "?";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return absl::StrFormat("%dh%02dm", t / 3600, (t % 3600) / 60);
  if (t >= 60) return absl::StrFormat("%dm%02ds", t / 60, t % 60);
  return absl::StrFormat("%ds", t);
}

std::string progress_line(int64_t step, int64_t total_steps, double loss, double tokens_per_s, double eta_s) {
  const std::string rate = tokens_per_s >= 1000 ? absl::StrFormat("%.1fk", tokens_per_s / 1000)
                                                 : absl::StrFormat("%.0f", tokens_per_s);
  return absl::StrFormat("step %d/%d | loss %.4f | %s tok/s | ETA %s", step, total_steps, loss, rate,
                         format_duration(eta_s));
}

}  // namespace mone::train

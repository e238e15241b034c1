#include "report/run_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "report/svg.h"

namespace mone::report {
namespace {

namespace fs = std::filesystem;

struct Run {
  std::string dir, label;
  std::map<std::string, Series> metrics;
};

// What a metric's chart is called and how its y axis reads.
struct MetricInfo {
  const char* key;
  const char* title;
  bool log_y;
};
const MetricInfo kMetrics[] = {
    {"ce", "train CE loss", false},          {"val_loss", "validation CE loss", false},
    {"loss", "train total loss", false},     {"val_perplexity", "validation perplexity", true},
    {"neuron_loss", "NG-LBL (train)", false}, {"load_balance", "expert load balance (train)", false},
    {"z_loss", "router z-loss (train)", false}, {"grad_norm", "gradient norm", true},
    {"lr", "learning rate", false},           {"tokens_per_s", "tokens / s", false},
};

// The file's <svg> element without the XML declaration, for inlining.
std::string inline_svg(const std::string& text) {
  const size_t at = text.find("<svg");
  return at == std::string::npos ? std::string() : text.substr(at);
}

std::string number(double v) {
  if (!std::isfinite(v)) return "–";
  std::ostringstream s;
  s.precision(5);
  s << v;
  return s.str();
}

// Last value, and smallest value, of a series (NaN when absent or empty).
double last_of(const std::map<std::string, Series>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() || it->second.y.empty() ? NAN : it->second.y.back();
}
double min_of(const std::map<std::string, Series>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end() || it->second.y.empty()) return NAN;
  return *std::min_element(it->second.y.begin(), it->second.y.end());
}

std::string runs_table(const std::vector<Run>& runs) {
  std::string t =
      "<table>\n<tr><th>run</th><th>directory</th><th>steps</th><th>tokens</th><th>last train CE</th>"
      "<th>best val loss</th><th>last val loss</th></tr>\n";
  for (const Run& r : runs) {
    absl::StrAppend(&t, "<tr><td>", xml_escape(r.label), "</td><td>", xml_escape(r.dir), "</td><td>",
                    number(last_of(r.metrics, "step")), "</td><td>", number(last_of(r.metrics, "tokens")),
                    "</td><td>", number(last_of(r.metrics, "ce")), "</td><td>", number(min_of(r.metrics, "val_loss")),
                    "</td><td>", number(last_of(r.metrics, "val_loss")), "</td></tr>\n");
  }
  return t + "</table>\n";
}

std::string figure(const std::string& svg, const std::string& caption) {
  return absl::StrCat("<figure>", inline_svg(svg), "<figcaption>", xml_escape(caption), "</figcaption></figure>\n");
}

}  // namespace

StatusOr<std::map<std::string, Series>> read_metrics_series(const std::string& path) {
  MONE_ASSIGN_OR_RETURN(std::string text, read_file_to_string(path));
  std::map<std::string, Series> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded() || !record.is_object()) continue;
    const auto step = record.find("step");
    if (step == record.end() || !step->is_number_integer()) continue;
    for (const auto& [key, value] : record.items()) {
      if (!value.is_number()) continue;
      Series& s = out[key];
      s.name = key;
      s.x.push_back(step->get<double>());
      s.y.push_back(value.get<double>());
    }
  }
  return out;
}

const std::vector<std::string>& report_metrics() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const MetricInfo& m : kMetrics) k.push_back(m.key);
    return k;
  }();
  return keys;
}

const std::vector<std::string>& report_plot_folders() {
  static const std::vector<std::string> folders = {"analysis", "sparsify", "gradstudy"};
  return folders;
}

StatusOr<std::string> run_report_html(const ReportOptions& o) {
  if (o.run_dirs.empty()) return absl::InvalidArgumentError("the report needs at least one run directory");
  std::vector<Run> runs;
  for (const std::string& dir : o.run_dirs) {
    Run r;
    r.dir = dir;
    r.label = fs::path(dir).lexically_normal().filename().string();
    if (r.label.empty()) r.label = fs::path(dir).lexically_normal().parent_path().filename().string();
    const std::string path = join_path(dir, "metrics.jsonl");
    StatusOr<std::map<std::string, Series>> m = read_metrics_series(path);
    if (!m.ok()) {
      return absl::Status(m.status().code(), absl::StrCat("run directory ", dir, ": ", m.status().message()));
    }
    r.metrics = std::move(*m);
    runs.push_back(std::move(r));
  }
  // Two runs with one folder name (a/run, b/run) are told apart by their paths.
  for (Run& r : runs) {
    const auto same = std::count_if(runs.begin(), runs.end(), [&](const Run& o2) { return o2.label == r.label; });
    if (same > 1) r.label = r.dir;
  }

  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>",
      xml_escape(o.title), "</title>\n<style>\n",
      "body { font-family: sans-serif; margin: 24px; color: #222; }\n"
      "h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; } h3 { font-size: 15px; }\n"
      "table { border-collapse: collapse; font-size: 13px; }\n"
      "td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }\n"
      "td:first-child, td:nth-child(2) { text-align: left; }\n"
      ".grid { display: flex; flex-wrap: wrap; gap: 12px; }\n"
      "figure { margin: 0; border: 1px solid #eee; padding: 4px; }\n"
      "figcaption { font-size: 12px; color: #555; text-align: center; }\n",
      "</style>\n</head>\n<body>\n<h1>", xml_escape(o.title), "</h1>\n<h2>Runs</h2>\n", runs_table(runs),
      "<h2>Training curves</h2>\n<div class=\"grid\">\n");
  for (const MetricInfo& m : kMetrics) {
    LineChart chart;
    chart.title = m.title;
    chart.x_label = "step";
    chart.y_label = m.key;
    chart.log_y = m.log_y;
    for (const Run& r : runs) {
      auto it = r.metrics.find(m.key);
      if (it == r.metrics.end()) continue;
      Series s = it->second;
      s.name = r.label;
      chart.series.push_back(std::move(s));
    }
    if (chart.series.empty()) continue;
    chart.markers = chart.series.front().x.size() <= 12;
    html += figure(line_chart_svg(chart), m.key);
  }
  html += "</div>\n";
  for (const Run& r : runs) {
    std::string plots;
    for (const std::string& folder : report_plot_folders()) {
      const std::string dir = join_path(r.dir, folder);
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) continue;
      MONE_ASSIGN_OR_RETURN(std::vector<std::string> names, list_directory(dir));  // sorted
      std::string figures;
      for (const std::string& name : names) {
        if (fs::path(name).extension() != ".svg") continue;
        MONE_ASSIGN_OR_RETURN(std::string svg, read_file_to_string(join_path(dir, name)));
        figures += figure(svg, name);
      }
      if (figures.empty()) continue;
      absl::StrAppend(&plots, "<h3>", xml_escape(folder), "</h3>\n<div class=\"grid\">\n", figures, "</div>\n");
    }
    if (!plots.empty()) absl::StrAppend(&html, "<h2>Analysis: ", xml_escape(r.label), "</h2>\n", plots);
  }
  return html + "</body>\n</html>\n";
}

}  // namespace mone::report

#include "train/run_summary.h"

#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <sstream>

#include <google/protobuf/stubs/common.h>

#include "absl/strings/escaping.h"

#include "core/file_io.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "train/checkpointing.h"
#include "train/train_spec.h"
#include "train/trainer.h"

namespace mone::train {
namespace {

struct Record {
  int64_t step = 0;
  nlohmann::json json;
};

std::vector<Record> read_records(const std::string& text) {
  std::vector<Record> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) continue;  // a torn line
    out.push_back({j["step"].get<int64_t>(), std::move(j)});
  }
  return out;
}

// Whether record j has `key` with a value of the kind `is` tests (a line of another kind is read
// as if the key were absent: json::value would throw).
bool has(const nlohmann::json& j, const char* key, bool (nlohmann::json::*is)() const noexcept) {
  const auto it = j.find(key);
  return it != j.end() && ((*it).*is)();
}

// The newest record at or before `step` that has a number under `key`.
std::optional<StepValue> newest_at_or_before(const std::vector<Record>& records, int64_t step, const char* key) {
  std::optional<StepValue> found;
  for (const Record& r : records) {
    if (r.step <= step && has(r.json, key, &nlohmann::json::is_number) && (!found || r.step >= found->step)) {
      found = StepValue{r.step, r.json[key].get<double>()};
    }
  }
  return found;
}

MetricsSummary summarize_metrics(const std::vector<Record>& records) {
  MetricsSummary m;
  double rate_sum = 0;
  for (const Record& r : records) {
    const nlohmann::json& j = r.json;
    if (has(j, "loss", &nlohmann::json::is_number)) {
      const StepValue v{r.step, j["loss"].get<double>()};
      ++m.train_records;
      if (!m.first_loss) m.first_loss = v;
      m.last_loss = v;
      if (has(j, "skipped", &nlohmann::json::is_boolean) && j["skipped"].get<bool>()) ++m.skipped_steps;
      if (has(j, "tokens", &nlohmann::json::is_number_integer)) m.tokens = j["tokens"].get<int64_t>();
      if (has(j, "tokens_per_s", &nlohmann::json::is_number)) rate_sum += j["tokens_per_s"].get<double>();
    }
    if (has(j, "val_loss", &nlohmann::json::is_number)) {
      const StepValue v{r.step, j["val_loss"].get<double>()};
      ++m.eval_records;
      if (!m.best_val || v.value < m.best_val->value) m.best_val = v;
      m.last_val = v;
    }
  }
  if (m.train_records > 0) m.mean_tokens_per_s = rate_sum / static_cast<double>(m.train_records);
  return m;
}

std::string modified_time(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  std::tm tm{};
  ::localtime_r(&st.st_mtime, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

nlohmann::ordered_json step_value_json(const std::optional<StepValue>& v) {
  if (!v) return nullptr;
  return {{"step", v->step}, {"value", v->value}};
}

}  // namespace

StatusOr<RunSummary> summarize_run(const std::string& run_dir) {
  if (!std::filesystem::is_directory(run_dir)) {
    return absl::NotFoundError(absl::StrCat(run_dir, ": no such run directory"));
  }
  RunSummary run;
  run.run_dir = run_dir;
  std::vector<Record> records;
  const std::string metrics_path = join_path(run_dir, "metrics.jsonl");
  if (StatusOr<std::string> text = read_file_to_string(metrics_path); text.ok()) {
    records = read_records(*text);
    run.metrics = summarize_metrics(records);
  }
  for (const std::string& dir : list_checkpoints(run_dir)) {
    CheckpointSummary c;
    c.dir = dir;
    c.step = checkpoint_step(dir).value_or(0);
    c.written = modified_time(join_path(dir, kTrainerStateFileName));
    if (StatusOr<TrainerState> state = read_trainer_state(dir); state.ok()) {
      c.tokens_seen = state->tokens_seen;
      c.elapsed_s = state->elapsed_s;
      if (StatusOr<proto::TrainSpec> spec = parse_train_spec(state->train_spec_text, dir); spec.ok()) {
        // The spec was validated when the run started, but this file may have changed since:
        // a name that is not UTF-8 is shown escaped (JSON text is UTF-8).
        const std::string& name = spec->model().name();
        run.model_name = google::protobuf::internal::IsStructurallyValidUTF8(name) ? name : absl::CEscape(name);
        run.total_steps = total_training_steps(*spec);
      }
    } else {
      c.problem = std::string(state.status().message());
    }
    c.train_loss = newest_at_or_before(records, c.step, "loss");
    c.val_loss = newest_at_or_before(records, c.step, "val_loss");
    run.checkpoints.push_back(std::move(c));
  }
  return run;
}

nlohmann::ordered_json run_summary_json(const RunSummary& run) {
  nlohmann::ordered_json checkpoints = nlohmann::ordered_json::array();
  for (const CheckpointSummary& c : run.checkpoints) {
    nlohmann::ordered_json j = {{"dir", c.dir},         {"step", c.step},
                                {"tokens", c.tokens_seen}, {"elapsed_s", c.elapsed_s},
                                {"written", c.written}, {"train_loss", step_value_json(c.train_loss)},
                                {"val_loss", step_value_json(c.val_loss)}};
    if (!c.problem.empty()) j["problem"] = c.problem;
    checkpoints.push_back(std::move(j));
  }
  nlohmann::ordered_json out = {{"run_dir", run.run_dir},
                                {"model", run.model_name},
                                {"total_steps", run.total_steps},
                                {"checkpoints", checkpoints}};
  if (run.metrics) {
    const MetricsSummary& m = *run.metrics;
    out["metrics"] = {{"train_records", m.train_records},     {"eval_records", m.eval_records},
                      {"skipped_steps", m.skipped_steps},     {"first_loss", step_value_json(m.first_loss)},
                      {"last_loss", step_value_json(m.last_loss)}, {"best_val_loss", step_value_json(m.best_val)},
                      {"last_val_loss", step_value_json(m.last_val)}, {"tokens", m.tokens},
                      {"mean_tokens_per_s", m.mean_tokens_per_s}};
  } else {
    out["metrics"] = nullptr;
  }
  return out;
}

}  // namespace mone::train

// Fuzzes what `mone runs` and `train --resume` read of a run directory besides the checkpoint
// files: metrics.jsonl (summarize_run, then truncate_metrics_after as a resume at step 1 does)
// and, as `mone runs` reads it without verifying the checkpoint, trainer_state.json.
//
// Input: metrics.jsonl, NUL, trainer_state.json (the tiny checkpoint's own when there is no NUL).
// Properties: summarize_run reads any such directory; the summary serialises as JSON (what
// `mone runs --json` prints); after truncating at step 1 every line left is a JSON object whose
// integer "step" is at most 1, and truncating again changes nothing.
#include <sstream>

#include "tests/fuzz/fuzz_util.h"
#include "train/checkpointing.h"
#include "train/metrics.h"
#include "train/run_summary.h"

using namespace mone;

namespace {

struct Template {
  std::string run_dir, trainer_state_path, trainer_state;
};

const Template& the_template() {
  static const Template* t = [] {
    auto* t = new Template;
    t->run_dir = join_path(fuzz::scratch_dir(), "run");
    const std::string dir = value_or_die(fuzz::write_tiny_checkpoint(t->run_dir), "tiny checkpoint");
    t->trainer_state_path = join_path(dir, train::kTrainerStateFileName);
    t->trainer_state = fuzz::read_bytes(t->trainer_state_path);
    return t;
  }();
  return *t;
}

void check_truncated(const std::string& path) {
  const std::string text = fuzz::read_bytes(path);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded() || !record.is_object()) fuzz::fail("a truncated metrics log keeps a torn line");
    const auto step = record.find("step");
    if (step != record.end() && step->is_number_integer() && step->get<int64_t>() > 1) {
      fuzz::fail("a metrics log truncated at step 1 keeps step " + step->dump());
    }
  }
  MONE_CHECK_OK(train::truncate_metrics_after(path, 1));
  if (fuzz::read_bytes(path) != text) fuzz::fail("truncating a truncated metrics log changes it");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Template& t = the_template();
  const auto [metrics, trainer_state] = fuzz::split_at_nul(fuzz::as_text(data, size));
  const std::string metrics_path = join_path(t.run_dir, "metrics.jsonl");
  fuzz::write_bytes(metrics_path, metrics);
  fuzz::write_bytes(t.trainer_state_path, trainer_state.empty() ? std::string_view(t.trainer_state) : trainer_state);

  StatusOr<train::RunSummary> summary = train::summarize_run(t.run_dir);
  if (!summary.ok()) fuzz::fail("summarize_run refuses a run directory: " + std::string(summary.status().message()));
  (void)train::run_summary_json(*summary).dump(2, ' ', false, nlohmann::json::error_handler_t::strict);

  if (Status truncated = train::truncate_metrics_after(metrics_path, 1); !truncated.ok()) {
    fuzz::fail("truncate_metrics_after fails: " + std::string(truncated.message()));
  }
  check_truncated(metrics_path);
  return 0;
}

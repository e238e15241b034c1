// The run directory over several sessions: a new run never appends to an earlier run's
// metrics.jsonl; after a resume the load statistics read as in an uninterrupted run; the stop
// summary says which step its validation loss comes from.
#include <doctest/doctest.h>

#include <filesystem>

#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;

using mone_testing::has;

std::vector<int64_t> steps_of(const std::vector<nlohmann::json>& records) {
  std::vector<int64_t> steps;
  for (const auto& r : records) {
    if (r.contains("loss")) steps.push_back(r["step"].get<int64_t>());
  }
  return steps;
}

TEST_SUITE("unit") {
  TEST_CASE("a new run where an earlier one saved no checkpoint starts metrics.jsonl afresh and keeps the old one") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 3\neval_interval: 0\n");
    // What a run killed before its first checkpoint leaves: records, no checkpoint.
    std::filesystem::create_directories(dir.file("run"));
    const std::string earlier = "{\"step\":1,\"loss\":4.1}\n{\"step\":2,\"loss\":4.0}\n{\"step\":3,\"loss\":3.9}\n";
    write_text(dir.file("run/metrics.jsonl"), earlier);
    const CommandResult r = run_mone("train --config " + spec);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(has(r, "note: " + dir.file("run/metrics.jsonl") + " held the records of an earlier run"));
    CHECK(has(r, "moved to " + dir.file("run/metrics.jsonl.1")));
    CHECK(read_text(dir.file("run/metrics.jsonl.1")) == earlier);
    CHECK(steps_of(read_metrics(dir.file("run/metrics.jsonl"))) == std::vector<int64_t>{1, 2, 3});
  }

  TEST_CASE("after a resume, expert_load and neuron_load cover the same steps as in an uninterrupted run") {
    ScratchDir dir;
    // Records every 4 steps; the split run stops at step 6, between two records.
    const std::string spec = write_tiny_setup(dir.path(), "log_interval: 4\ncheckpoint_interval: 100\n");
    REQUIRE(run_mone("train --config " + spec + " --run-dir " + dir.file("straight")).exit_code == 0);
    REQUIRE(run_mone("train --config " + spec + " --run-dir " + dir.file("split") + " --stop-after 6").exit_code == 0);
    const CommandResult resumed = run_mone("train --resume " + dir.file("split"));
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    const auto a = read_metrics(dir.file("straight/metrics.jsonl"));
    const auto b = read_metrics(dir.file("split/metrics.jsonl"));
    REQUIRE(a.size() == b.size());
    REQUIRE(steps_of(a) == std::vector<int64_t>{4, 8, 12});
    for (size_t i = 0; i < a.size(); ++i) CHECK_MESSAGE(a[i] == b[i], "record ", i, ": ", a[i].dump(), " vs ", b[i].dump());
    // Step 8's record counts steps 5-8: 4 steps x 64 tokens x K = 2 routed slots in each layer.
    for (const auto& r : b) {
      if (r["step"] != 8 || !r.contains("expert_load")) continue;
      for (const auto& layer : r["expert_load"]) {
        int64_t slots = 0;
        for (const auto& n : layer) slots += n.get<int64_t>();
        CHECK(slots == 4 * 64 * 2);
      }
    }
  }

  TEST_CASE("the stop summary says which step its validation loss comes from") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path());  // evaluations at 0, 4, 8, 12
    const CommandResult r = run_mone("train --config " + spec + " --stop-after 6");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(has(r, "stopped at step 6/12: loss "));
    const auto records = read_metrics(dir.file("run/metrics.jsonl"));
    double val_at_4 = 0;
    for (const auto& rec : records) {
      if (rec.contains("val_loss") && rec["step"] == 4) val_at_4 = rec["val_loss"].get<double>();
    }
    CHECK_MESSAGE(has(r, absl::StrFormat(", val loss %.4f (step 4)", val_at_4)), r.output);
  }
}

}  // namespace
}  // namespace mone::train

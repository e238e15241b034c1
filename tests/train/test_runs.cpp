// `mone runs`: a run directory's checkpoints with their losses, and metrics.jsonl in brief.
#include <doctest/doctest.h>

#include "train/run_summary.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;

using mone_testing::has;

TEST_SUITE("unit") {
  TEST_CASE("mone runs lists checkpoints with their losses and summarises metrics.jsonl") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "checkpoint_interval: 6\nkeep_checkpoints: 0\n");
    REQUIRE(run_mone("train --config " + spec).exit_code == 0);  // checkpoints 6 and 12
    const auto records = read_metrics(dir.file("run/metrics.jsonl"));
    auto value = [&](int64_t step, const char* key) {
      for (const auto& r : records) {
        if (r["step"] == step && r.contains(key)) return r[key].get<double>();
      }
      FAIL("no ", key, " at step ", step);
      return 0.0;
    };
    const CommandResult text = run_mone("runs " + dir.file("run"));
    REQUIRE_MESSAGE(text.exit_code == 0, text.output);
    CHECK(has(text, dir.file("run") + "  (tiny-test, 12 steps scheduled)"));
    CHECK(has(text, "step_00000006"));
    CHECK(has(text, absl::StrFormat("%.4f (step 4)", value(4, "val_loss"))));  // the last evaluation before step 6
    CHECK(has(text, absl::StrFormat("%.4f", value(6, "loss"))));
    CHECK(has(text, "12 training records, 4 evaluations"));

    const CommandResult json = run_mone("runs --json " + dir.file("run") + " " + dir.file("run"));
    REQUIRE_MESSAGE(json.exit_code == 0, json.output);
    const nlohmann::json j = nlohmann::json::parse(json.output);
    REQUIRE(j.size() == 2);
    const nlohmann::json& run = j[0];
    REQUIRE(run["checkpoints"].size() == 2);
    CHECK(run["checkpoints"][0]["step"] == 6);
    CHECK(run["checkpoints"][0]["train_loss"]["value"].get<double>() == value(6, "loss"));
    CHECK(run["checkpoints"][0]["val_loss"]["step"] == 4);
    CHECK(run["checkpoints"][1]["val_loss"]["step"] == 12);
    CHECK(run["checkpoints"][1]["tokens"] == 12 * 64);
    CHECK(run["metrics"]["first_loss"]["step"] == 1);
    CHECK(run["metrics"]["last_loss"]["value"].get<double>() == value(12, "loss"));
    double best = 1e9;
    for (int64_t s : {0, 4, 8, 12}) best = std::min(best, value(s, "val_loss"));
    CHECK(run["metrics"]["best_val_loss"]["value"].get<double>() == best);

    // A recorded spec whose model name is not UTF-8 (the file changed after the run) is shown
    // escaped: --json could not print it (found by fuzz_run_summary).
    const std::string state_path = dir.file("run/step_00000012/trainer_state.json");
    std::string state = read_text(state_path);
    const size_t at = state.find("tiny-test", state.find("\"train_spec\""));
    REQUIRE(at != std::string::npos);
    write_text(state_path, state.replace(at, 9, "\\\\377"));  // JSON "\\377", textproto "\377": byte 0xFF
    const CommandResult escaped = run_mone("runs --json " + dir.file("run"));
    REQUIRE_MESSAGE(escaped.exit_code == 0, escaped.output);
    CHECK(nlohmann::json::parse(escaped.output)[0]["model"] == "\\377");

    const CommandResult missing = run_mone("runs " + dir.file("nope"));
    CHECK(missing.exit_code == 1);
    CHECK(has(missing, "mone runs: " + dir.file("nope") + ": no such run directory"));
  }

  TEST_CASE("summarize_run: values of another type are ignored, and a damaged checkpoint's problem prints as JSON") {
    // Both found by fuzz_run_summary: json::value threw on "tokens": "8", and the parse error of a
    // trainer_state.json quoted its bytes raw, which `mone runs --json` could not print.
    ScratchDir dir;
    const std::string run = dir.file("run");
    std::filesystem::create_directories(run + "/step_00000002");
    write_text(run + "/metrics.jsonl",
               "{\"step\": 1, \"loss\": 2.5, \"skipped\": \"yes\", \"tokens\": \"8\", \"tokens_per_s\": \"fast\"}\n"
               "{\"step\": 2, \"loss\": 2.0, \"skipped\": true, \"tokens\": 16, \"tokens_per_s\": 100.0}\n"
               "{\"step\": 2, \"val_loss\": [1]}\n");
    write_text(run + "/step_00000002/trainer_state.json", "{\"step\": \"caf\xe9\"}");
    const StatusOr<RunSummary> summary = summarize_run(run);
    REQUIRE_MESSAGE(summary.ok(), summary.status());
    REQUIRE(summary->metrics.has_value());
    CHECK(summary->metrics->train_records == 2);
    CHECK(summary->metrics->skipped_steps == 1);
    CHECK(summary->metrics->tokens == 16);
    CHECK(summary->metrics->mean_tokens_per_s == 50.0);
    CHECK(summary->metrics->eval_records == 0);
    REQUIRE(summary->checkpoints.size() == 1);
    const std::string& problem = summary->checkpoints[0].problem;
    CHECK_MESSAGE(problem.find("last read: '\"caf\\xe9\"'") != std::string::npos, problem);
    CHECK_NOTHROW(static_cast<void>(run_summary_json(*summary).dump(2)));
  }
}

}  // namespace
}  // namespace mone::train

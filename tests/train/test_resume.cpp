// Exact resume: 2N steps in one process must equal N steps, then --resume in a fresh process for
// N more: the same metrics (every loss term, lr, grad norm, expert and neuron load, evaluations)
// and the same weights and AdamW moments, bit for bit.
#include <doctest/doctest.h>

#include "train/checkpointing.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;

TEST_SUITE("unit") {
  TEST_CASE("resume: N steps + --resume for N more equals 2N steps, bit for bit") {
    ScratchDir dir;
    // Accumulation over 2 micro-batches, warmup then cosine: everything the numbers depend on.
    const std::string spec = write_tiny_setup(dir.path(), "grad_accum_steps: 2\n");
    const std::string straight = dir.file("straight"), split = dir.file("split");

    CommandResult a = run_mone("train --config " + spec + " --run-dir " + straight);
    REQUIRE_MESSAGE(a.exit_code == 0, a.output);
    CommandResult b1 = run_mone("train --config " + spec + " --run-dir " + split + " --stop-after 6");
    REQUIRE_MESSAGE(b1.exit_code == 0, b1.output);
    CHECK(b1.output.find("--resume") != std::string::npos);
    // The second half takes its spec from the checkpoint: --resume DIR alone.
    CommandResult b2 = run_mone("train --resume " + split);
    REQUIRE_MESSAGE(b2.exit_code == 0, b2.output);
    CHECK(b2.output.find("resuming from") != std::string::npos);

    const auto metrics = require_same_run(straight, split, 12);
    // 12 step lines, evaluations at steps 0, 4, 8, 12.
    REQUIRE(metrics.size() == 16);
    // The losses moved (the test would be empty if nothing trained).
    CHECK(metrics[1]["loss"] != metrics[12]["loss"]);
    auto state = read_trainer_state(split + "/step_00000012");
    REQUIRE(state.ok());
    CHECK(state->data_position == 24);  // 12 steps × 2 micro-batches
  }

  TEST_CASE("resume: a run that already finished has nothing to do and changes nothing") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 3\neval_interval: 0\n");
    REQUIRE(run_mone("train --config " + spec).exit_code == 0);
    const std::string before = read_text(dir.file("run/step_00000003/model.safetensors"));
    CommandResult again = run_mone("train --config " + spec + " --resume");
    REQUIRE_MESSAGE(again.exit_code == 0, again.output);
    CHECK(again.output.find("nothing to do") != std::string::npos);
    CHECK(read_text(dir.file("run/step_00000003/model.safetensors")) == before);
  }
}

}  // namespace
}  // namespace mone::train

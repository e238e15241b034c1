// Tiny checkpoints for the research tools' tests, trained once per test process by the built
// `mone train` (tests/train/trainer_test_util.h's setup: 2 layers, d = 32, 4 experts of D = 32,
// K = 2, one shared expert; K_N = 8 for MoNE; B 4, T 16, 12 steps), and helpers to run a command
// and read what it wrote.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "research/eval_input.h"
#include "tests/train/trainer_test_util.h"
#include "tests/xml_check.h"

namespace mone::research_testing {

using mone::train::trainer_testing::read_text;
using mone::train::trainer_testing::write_text;
using mone_testing::CommandResult;
using mone_testing::run_mone;

// The flags that point a research command at tiny_run's DIR: its run, its data, `batches` batches.
inline std::string tool_flags(const std::string& dir, int batches) {
  return " --checkpoint " + dir + "/run --data " + dir + "/data --batches " + std::to_string(batches) + " --threads 1";
}

// The setup directory of a trained tiny run: DIR/run (the run), DIR/data (shards). `ffn` is MONE or
// MOE; `extra_model` lines are appended to the model spec (e.g. "neuron_selector: SIGNED_GATE\n").
inline const std::string& tiny_run(const std::string& ffn, const std::string& extra_model = "") {
  static std::map<std::string, std::unique_ptr<mone_testing::TempDir>> runs;
  auto& dir = runs[ffn + "|" + extra_model];
  if (!dir) {
    dir = std::make_unique<mone_testing::TempDir>();
    const std::string spec =
        train::trainer_testing::write_tiny_setup(dir->path(), "eval_interval: 0\n", ffn);
    write_text(dir->file("model.textproto"), train::trainer_testing::tiny_model_text(ffn) + extra_model);
    const CommandResult r = run_mone("train --config " + spec);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }
  return dir->path();
}

// The first `batches` validation batches of a tiny_run directory, its model in `dtype` on `device`.
inline research::EvalInput open_tiny_input(const std::string& dir, int64_t batches, DType dtype = DType::kF32,
                                           Device device = Device::cpu()) {
  research::EvalInputOptions o;
  o.checkpoint = dir + "/run";
  o.data = {dir + "/data"};
  o.batches = batches;
  o.dtype = dtype;
  o.device = device;
  StatusOr<research::EvalInput> input = research::EvalInput::open(o);
  REQUIRE_MESSAGE(input.ok(), input.status().message());
  return std::move(*input);
}

// Runs `mone ARGS` and parses its stdout as one JSON object.
inline nlohmann::json run_json(const std::string& args) {
  const CommandResult r = run_mone(args);
  REQUIRE_MESSAGE(r.exit_code == 0, args << "\n" << r.output);
  const nlohmann::json j = nlohmann::json::parse(r.output, nullptr, false);
  REQUIRE_MESSAGE(!j.is_discarded(), r.output);
  return j;
}

// The file parsed as XML (a failed parse fails the test, naming the file).
inline mone_testing::XmlElement read_svg(const std::string& path) {
  const auto r = mone_testing::read_xml(read_text(path));
  REQUIRE_MESSAGE(r.ok, path << ": " << r.error);
  return r.root;
}

}  // namespace mone::research_testing

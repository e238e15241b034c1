// The programs in examples/ run, from a working directory of their own, and print what
// docs/TUTORIAL.md says they print.
#include <doctest/doctest.h>

#include <string>

#include "tests/run_mone.h"
#include "tests/temp_dir.h"

namespace {

mone_testing::CommandResult run_example(const std::string& name) {
  mone_testing::TempDir dir;  // not the repository: the examples need no files
  return mone_testing::run_shell("cd '" + dir.path() + "' && '" + std::string(MONE_BINARY_DIR) + "/bin/example_" + name +
                                 "'");
}

bool says(const mone_testing::CommandResult& r, const std::string& what) {
  return r.output.find(what) != std::string::npos;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("example 01: the tape of a two-layer MLP, a gradient by hand, gradcheck") {
  const auto r = run_example("01_tape_mlp");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(says(r, "0: matmul(f64[4, 3] cpu, f64[5, 3] cpu) -> f64[4, 5] cpu"));
  CHECK(says(r, "silu"));
  CHECK(says(r, "gradcheck of W1 and W2: OK"));
}

TEST_CASE("example 02: which neurons one MoNE expert keeps, and which weights each estimator reaches") {
  const auto r = run_example("02_mone_selection");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(says(r, "kept (largest |G|):"));
  // HARD reaches at most the 3 tokens' kept neurons; straight-through every row of W_up.
  CHECK(says(r, "STRAIGHT_THROUGH: neurons whose W_up row gets gradient: 8 of 8"));
}

TEST_CASE("example 03: a tiny MoNE learns a made-up language through the C++ API") {
  const auto r = run_example("03_train_tiny_mone");
  INFO(r.output);
  CHECK(r.exit_code == 0);  // the example itself requires the loss to halve
  CHECK(says(r, "step 59: cross-entropy"));
}

TEST_CASE("example 04: a new op with its backward; gradcheck passes it and catches a wrong one") {
  const auto r = run_example("04_new_op");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(says(r, "gradcheck of softplus: OK"));
  CHECK(says(r, "gradcheck of a wrong backward: caught"));
}

}  // TEST_SUITE

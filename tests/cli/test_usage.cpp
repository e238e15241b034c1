// The command line itself: unknown commands and flags get a suggestion, usage errors exit 2,
// flag values outside their range are refused naming the flag and the range, and --help shows
// every default.
#include <doctest/doctest.h>

#include <string>

#include "tests/run_mone.h"

using mone_testing::CommandResult;
using mone_testing::run_mone;

namespace {

using mone_testing::has;

void expect_usage_error(const std::string& args, const std::string& message) {
  const CommandResult r = run_mone(args);
  CHECK_MESSAGE(r.exit_code == 2, "mone ", args, ": ", r.output);
  CHECK_MESSAGE(has(r, message), "mone ", args, ": expected \"", message, "\" in: ", r.output);
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("an unknown command says so and suggests the closest one") {
  expect_usage_error("trian", "mone: unknown command 'trian'; did you mean 'train'?");
  expect_usage_error("generat --prompt x", "mone: unknown command 'generat'; did you mean 'generate'?");
  expect_usage_error("data prepar --input x", "mone data: unknown command 'prepar'; did you mean 'prepare'?");
  expect_usage_error("bench trian", "mone bench: unknown command 'trian'; did you mean 'train'?");
  // Nothing close: no guess.
  const CommandResult far = run_mone("frobnicate");
  CHECK(far.exit_code == 2);
  CHECK(has(far, "mone: unknown command 'frobnicate'"));
  CHECK_FALSE(has(far, "did you mean"));
  expect_usage_error("", "mone: a command is required: inspect, tokenizer, data, train, eval, generate, runs, import, export, bench, "
                     "gradstudy, analyze, sparsify, report, claims");
  expect_usage_error("tokenizer", "mone tokenizer: a command is required: train");
}

TEST_CASE("an unknown flag is named, in the order given, with the closest flag") {
  const CommandResult r = run_mone("train --stpes 10");
  CHECK(r.exit_code == 2);
  CHECK(has(r, "mone train: unknown flag --stpes; did you mean --steps?"));
  CHECK_FALSE(has(r, "10 --stpes"));
  expect_usage_error("generate --checkpoint x --temprature 0.5", "unknown flag --temprature; did you mean --temperature?");
  expect_usage_error("eval --checkpoint x --data y --bathces 3", "did you mean --batches?");
  expect_usage_error("inspect a b", "mone inspect: unexpected argument b");
  expect_usage_error("generate", "mone generate: --checkpoint is required");
}

TEST_CASE("--help exits 0 and documents the exit codes") {
  const CommandResult r = run_mone("--help");
  CHECK(r.exit_code == 0);
  CHECK(has(r, "Exit codes: 0 done; 1 the command failed"));
  CHECK(has(r, "2 usage error"));
  CHECK(run_mone("train --help").exit_code == 0);
  CHECK(run_mone("data prepare --help").exit_code == 0);
}

TEST_CASE("out-of-range flag values are refused with the flag and its range, before any work") {
  // The checkpoint does not exist: the range check comes first.
  expect_usage_error("generate --checkpoint nowhere --temperature -1", "mone generate: --temperature: -1 is out of range: must be >= 0");
  expect_usage_error("generate --checkpoint nowhere --top-p 2", "--top-p: 2 is out of range: must be in (0, 1]");
  expect_usage_error("generate --checkpoint nowhere --top-p 0", "--top-p: 0 is out of range");
  expect_usage_error("generate --checkpoint nowhere --max-tokens -5", "--max-tokens: -5 is out of range: must be >= 1");
  expect_usage_error("generate --checkpoint nowhere --samples 0", "--samples: 0 is out of range: must be >= 1");
  expect_usage_error("generate --checkpoint nowhere --max-tokens many", "--max-tokens: many is not a number");
  expect_usage_error("train --config nowhere --threads -1", "mone train: --threads: -1 is out of range: must be >= 0");
  expect_usage_error("train --config nowhere --lr 0", "--lr: 0 is out of range: must be > 0");
  expect_usage_error("train --config nowhere --steps 0", "--steps: 0 is out of range: must be >= 1");
  expect_usage_error("train --config nowhere --device tpu", "--device");
  expect_usage_error("eval --checkpoint nowhere --data x --batches -3", "mone eval: --batches: -3 is out of range: must be >= 0");
  expect_usage_error("eval --checkpoint nowhere --data x --threads -1", "--threads: -1 is out of range");
  expect_usage_error("data prepare --tokenizer t --input i --out o --val-fraction 1",
                     "--val-fraction: 1 is out of range: must be in [0, 1)");
  expect_usage_error("data prepare --tokenizer t --input i --out o --shard-tokens 0",
                     "--shard-tokens: 0 is out of range: must be >= 1");
  expect_usage_error("tokenizer train --input i --vocab-size 100", "--vocab-size: 100 is out of range: must be >= 257");
  expect_usage_error("bench train --model m --threads -2", "mone bench train: --threads: -2 is out of range");
  expect_usage_error("inspect spec --batch-size 0", "mone inspect: --batch-size: 0 is out of range: must be >= 1");
}

TEST_CASE("--help shows every default and every range") {
  const CommandResult tok = run_mone("tokenizer train --help");
  CHECK(has(tok, "--vocab-size INT (>= 257, default 4096)"));
  CHECK(has(tok, "--out TEXT (default tokenizer.json)"));
  const CommandResult data = run_mone("data prepare --help");
  CHECK(has(data, "--val-fraction FLOAT (in [0, 1), default 0.05)"));
  CHECK(has(data, "--shard-tokens INT (>= 1, default 100000000)"));
  const CommandResult gen = run_mone("generate --help");
  CHECK(has(gen, "--temperature FLOAT (>= 0, default 1)"));
  CHECK(has(gen, "--max-tokens INT (>= 1, default 128)"));
  CHECK(has(gen, "--top-p FLOAT (in (0, 1], default 1)"));
  CHECK(has(gen, "--top-k INT (>= 0, default 0)"));
  const CommandResult train = run_mone("train --help");
  CHECK(has(train, "B: sequences per micro-batch (spec default: 8)"));
  CHECK(has(train, "T: tokens per sequence (spec default: 128)"));
  const CommandResult eval = run_mone("eval --help");
  CHECK(has(eval, "--batches INT (>= 0, default 0)"));
  CHECK(has(eval, "(default: as trained, else 8)"));
}

}  // TEST_SUITE

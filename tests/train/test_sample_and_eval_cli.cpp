// `mone generate` and `mone eval` as a user runs them: generation slides past the context and
// says what ended it, stop strings, the tokenizer must be the model's, out-of-data --batches is
// refused, and --grads-out makes its folder and records where its numbers come from.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "train/checkpoint/safetensors.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;
using mone_testing::run_mone_in;

using mone_testing::has;

// dir/run: the tiny model (a 32-token context) trained 2 steps with a 300-token tokenizer kept
// beside it (dir/tok/tokenizer.json).
void train_with_tokenizer(const std::string& dir) {
  write_tiny_setup(dir, "steps: 2\neval_interval: 0\n");
  CommandResult r = run_mone_in(dir, "tokenizer train --input /usr/share/common-licenses --vocab-size 300 --out tok/tokenizer.json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  r = run_mone_in(dir, "train --config train.textproto --tokenizer tok/tokenizer.json --vocab-size 300");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
}

// "[N tokens in ..." from generate's stderr line.
int64_t tokens_reported(const std::string& output) {
  std::smatch m;
  REQUIRE(std::regex_search(output, m, std::regex("\\[([0-9]+) tokens in [0-9.]+ s, [0-9.]+ tokens/s; ended by")));
  return std::stoll(m[1]);
}

TEST_SUITE("unit") {
  TEST_CASE("generate goes on past the context, says so, and prints tokens/s") {
    ScratchDir dir;
    train_with_tokenizer(dir.path());
    ScratchDir elsewhere;
    const CommandResult r = run_mone_in(elsewhere.path(), "generate --checkpoint " + dir.file("run") +
                                                              " --prompt \"The\" --max-tokens 80 --temperature 0");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const int64_t n = tokens_reported(r.output);
    CHECK(has(r, n == 80 ? "ended by --max-tokens" : "ended by <|endoftext|>"));
    if (n > 40) CHECK(has(r, "the 32-token context filled up"));
    // Greedy on this tiny model does not pick <|endoftext|> early: 80 tokens, far past 32.
    CHECK(n == 80);
  }

  TEST_CASE("stop strings end the text before them") {
    ScratchDir dir;
    train_with_tokenizer(dir.path());
    const std::string base = "generate --checkpoint " + dir.file("run") + " --prompt \"A\" --max-tokens 40 --seed 3";
    const CommandResult full = run_mone(base);
    REQUIRE_MESSAGE(full.exit_code == 0, full.output);
    const std::string text = full.output.substr(0, full.output.find("\n["));  // stdout comes first
    // Stop at two letters after the prompt (safe to pass through the shell): the same seed stops
    // right before their first occurrence.
    size_t at = 2;
    while (at + 1 < text.size() && !(std::isalnum(static_cast<unsigned char>(text[at])) &&
                                     std::isalnum(static_cast<unsigned char>(text[at + 1])))) {
      ++at;
    }
    REQUIRE_MESSAGE(at + 1 < text.size(), "no two letters in a row in: ", text);
    const std::string stop = text.substr(at, 2);
    const CommandResult cut = run_mone(base + " --stop '" + stop + "'");
    REQUIRE_MESSAGE(cut.exit_code == 0, cut.output);
    CHECK(cut.output.substr(0, cut.output.find("\n[")) == text.substr(0, text.find(stop)));
    CHECK(has(cut, "ended by a stop string"));
  }

  TEST_CASE("generate refuses a tokenizer that is not the model's") {
    ScratchDir dir;
    train_with_tokenizer(dir.path());
    // Another tokenizer of the same size, learnt from other text.
    CommandResult r = run_mone_in(dir.path(), "tokenizer train --input " + std::string(MONE_SOURCE_DIR) +
                                                  "/docs --vocab-size 300 --out other/tokenizer.json");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    r = run_mone_in(dir.path(), "generate --checkpoint run --tokenizer other/tokenizer.json --max-tokens 3");
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(has(r, "other/tokenizer.json (300 tokens) is not the tokenizer the model was trained with, "), r.output);
    // The same tokenizer under another path is fine.
    r = run_mone_in(dir.path(), "generate --checkpoint run --tokenizer tok/tokenizer.json --max-tokens 3");
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    // Without a kept copy the vocabulary sizes must agree.
    std::filesystem::remove(dir.file("run/tokenizer.json"));
    r = run_mone_in(dir.path(), "tokenizer train --input /usr/share/common-licenses --vocab-size 280 --out small/tokenizer.json");
    REQUIRE(r.exit_code == 0);
    r = run_mone_in(dir.path(), "generate --checkpoint run --tokenizer small/tokenizer.json --max-tokens 3");
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(has(r, "small/tokenizer.json: the tokenizer has 280 tokens, the model 300: not the tokenizer the "
                         "model was trained with"), r.output);
    // Messages carry the command's name once.
    r = run_mone_in(dir.path(), "generate --checkpoint run --tokenizer tok/tokenizer.json --prompt \"" +
                                    std::string(200, 'z') + "\"");
    CHECK(r.exit_code == 1);
    CHECK(has(r, "mone generate: the prompt has"));
    CHECK_FALSE(has(r, "generate: generate:"));
  }

  TEST_CASE("validation data smaller than one batch: evaluation uses the sequences that fit, with a note") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 2\n");  // B 4 x T 16
    write_random_shard(dir.file("data/tiny_val_000.bin"), 40, kTinyVocab, 2);  // two sequences of 16 fit
    CommandResult r = run_mone("train --config " + spec);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(has(r, "note: the evaluation data holds 40 tokens, less than one batch of 4 x 16: evaluating batches of 2 x 16"));
    const auto records = read_metrics(dir.file("run/metrics.jsonl"));
    CHECK(records[0]["val_tokens"] == 32);
    r = run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("data"));
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(has(r, "1 batches of 2 x 16"));
    // A batch size given by hand is not changed.
    r = run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") + " --batch-size 4");
    CHECK(r.exit_code == 1);
    // Less than one sequence: an error that says what to do.
    write_random_shard(dir.file("data/tiny_val_000.bin"), 10, kTinyVocab, 2);
    r = run_mone("train --config " + spec + " --run-dir " + dir.file("run2"));
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(has(r, "give more text (or a larger --val-fraction) to mone data prepare"), r.output);
  }

  TEST_CASE("eval: --batches beyond the data is refused; --grads-out makes its folder and records its sources") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 2\neval_interval: 0\n");
    REQUIRE(run_mone("train --config " + spec).exit_code == 0);
    // 2000 val tokens, B 4 x T 16: 31 full batches.
    CommandResult r = run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") + " --batches 500");
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(has(r, "mone eval: --batches 500: the data holds 31 full batches of 4 x 16 tokens"), r.output);

    r = run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") + " --batches 2 --json" +
                 " --grads-out " + dir.file("new/folder/grads.safetensors"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const nlohmann::json printed = nlohmann::json::parse(r.output);
    const SafetensorsFile grads = value_or_die(read_safetensors(dir.file("new/folder/grads.safetensors")));
    CHECK(grads.metadata.at("checkpoint") == dir.file("run/step_00000002"));
    CHECK(grads.metadata.at("step") == "2");
    CHECK(grads.metadata.at("data") == dir.file("data/tiny_val_000.bin"));
    CHECK(grads.metadata.at("batch_size") == "4");
    CHECK(grads.metadata.at("seq_len") == "16");
    CHECK(grads.metadata.at("batches") == "2");
    // The loss at full precision: it reads back as the very double eval computed.
    CHECK(std::stod(grads.metadata.at("loss")) == printed["total_loss"].get<double>());
    CHECK(grads.metadata.at("loss").size() > 10);

    // A --grads-out that cannot be written fails before evaluating.
    write_text(dir.file("a_file"), "x");
    r = run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") + " --grads-out " +
                 dir.file("a_file/g.safetensors"));
    CHECK(r.exit_code == 1);
    CHECK(has(r, dir.file("a_file")));
    CHECK_FALSE(has(r, "ce loss"));
  }
}

}  // namespace
}  // namespace mone::train

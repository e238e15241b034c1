// `mone train` on bad input: each case exits non-zero with a message naming the file (or the
// run directory), and nothing is overwritten.
#include <doctest/doctest.h>

#include <filesystem>

#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;

bool mentions(const CommandResult& r, const std::string& what) { return r.output.find(what) != std::string::npos; }

// Expects a failure whose message contains every string of `words`.
void expect_failure(const CommandResult& r, std::initializer_list<std::string> words) {
  CHECK_MESSAGE(r.exit_code == 1, r.output);
  for (const std::string& w : words) CHECK_MESSAGE(mentions(r, w), "missing \"", w, "\" in: ", r.output);
  CHECK_FALSE(mentions(r, "Aborted"));  // a CHECK failure would be a bug in mone
}

TEST_SUITE("unit") {
  TEST_CASE("train: a run directory with checkpoints needs --resume") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 2\neval_interval: 0\n");
    REQUIRE(run_mone("train --config " + spec).exit_code == 0);
    const std::string before = read_text(dir.file("run/step_00000002/model.safetensors"));
    expect_failure(run_mone("train --config " + spec), {dir.file("run"), "--resume"});
    CHECK(read_text(dir.file("run/step_00000002/model.safetensors")) == before);
    // --resume on an empty run directory is an error too.
    expect_failure(run_mone("train --config " + spec + " --run-dir " + dir.file("empty") + " --resume"),
                   {dir.file("empty"), "no checkpoints"});
  }

  TEST_CASE("train: a token id outside the vocabulary names the shard") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path());
    write_random_shard(dir.file("data/tiny_train_001.bin"), 3000, 128, 7);  // ids up to 127, model vocab 64
    expect_failure(run_mone("train --config " + spec), {"tiny_train_001.bin"});
    CHECK_FALSE(std::filesystem::exists(dir.file("run")));
  }

  TEST_CASE("train: seq_len above max_position_embeddings names the spec and both numbers") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path());
    expect_failure(run_mone("train --config " + spec + " --seq-len 64"), {spec, "seq_len", "64", "32"});
  }

  TEST_CASE("train: missing, empty and truncated shards name the path") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path());
    expect_failure(run_mone("train --config " + spec + " --data " + dir.file("nowhere")), {dir.file("nowhere")});
    std::filesystem::create_directories(dir.file("empty"));
    expect_failure(run_mone("train --config " + spec + " --data " + dir.file("empty")), {dir.file("empty")});
    const std::string shard = dir.file("data/tiny_train_000.bin");
    const std::string bytes = read_text(shard);
    write_text(shard, bytes.substr(0, bytes.size() - 7));
    expect_failure(run_mone("train --config " + spec), {shard});
  }

  TEST_CASE("train: a missing train spec or model spec names the file") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path());
    expect_failure(run_mone("train --config " + dir.file("missing.textproto")), {dir.file("missing.textproto")});
    expect_failure(run_mone("train --config " + spec + " --model " + dir.file("no_model.textproto")),
                   {dir.file("no_model.textproto")});
    write_text(dir.file("broken.textproto"), "steps: 10\nbatch_size: \"four\"\n");
    expect_failure(run_mone("train --config " + dir.file("broken.textproto")), {dir.file("broken.textproto"), "broken.textproto:2:"});
    expect_failure(run_mone("train --config " + spec + " --set no_such_field=1"), {"no_such_field"});
  }

  TEST_CASE("train: a run directory that cannot be created names it") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path());
    write_text(dir.file("a_file"), "not a directory");  // even root cannot mkdir below a file
    expect_failure(run_mone("train --config " + spec + " --run-dir " + dir.file("a_file/run")), {dir.file("a_file")});
  }

  TEST_CASE("train --resume: a corrupt newest checkpoint falls back to the previous one") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "eval_interval: 0\n");
    REQUIRE(run_mone("train --config " + spec + " --stop-after 10").exit_code == 0);  // checkpoints 5, 10
    const std::string newest = dir.file("run/step_00000010/model.safetensors");
    std::string bytes = read_text(newest);
    bytes[bytes.size() - 3] ^= 0x40;
    write_text(newest, bytes);
    CommandResult r = run_mone("train --config " + spec + " --resume");
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(mentions(r, "skipping checkpoint " + dir.file("run/step_00000010")));
    CHECK(mentions(r, "resuming from " + dir.file("run/step_00000005")));
    CHECK(std::filesystem::exists(dir.file("run/step_00000012/model.safetensors")));

    // With every checkpoint corrupt, resume fails and says why.
    for (const char* step : {"step_00000005", "step_00000012"}) {
      write_text(dir.file(std::string("run/") + step + "/optimizer.safetensors"), "garbage");
    }
    std::filesystem::remove_all(dir.file("run/step_00000010"));
    expect_failure(run_mone("train --config " + spec + " --resume"), {"step_00000012", "optimizer.safetensors"});
  }

  TEST_CASE("train --resume with another model spec is refused") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 2\neval_interval: 0\n");
    REQUIRE(run_mone("train --config " + spec).exit_code == 0);
    expect_failure(run_mone("train --config " + spec + " --resume --steps 4 --vocab-size 80"),
                   {"step_00000002", "different model spec", "vocab_size"});
  }

  TEST_CASE("eval: a missing checkpoint or data names the path") {
    ScratchDir dir;
    expect_failure(run_mone("eval --checkpoint " + dir.file("nope") + " --data " + dir.path()), {dir.file("nope")});
    const std::string spec = write_tiny_setup(dir.path(), "steps: 1\neval_interval: 0\n");
    REQUIRE(run_mone("train --config " + spec).exit_code == 0);
    expect_failure(run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("nodata")),
                   {dir.file("nodata")});
    expect_failure(run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") + " --seq-len 33"),
                   {"33", "max_position_embeddings"});
  }
}

}  // namespace
}  // namespace mone::train

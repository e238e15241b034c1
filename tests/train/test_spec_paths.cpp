// Paths as a user meets them: a spec's relative paths are found beside it (then in the working
// directory); a run resumes from any working directory; --set model.X changes one field of the
// model the spec names; only real changes to a resumed spec are reported, and the model's name
// is a label.
#include <doctest/doctest.h>

#include <filesystem>

#include "train/checkpointing.h"
#include "train/train_spec.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;
using mone_testing::run_mone_in;

using mone_testing::has;

nlohmann::json config_json(const std::string& checkpoint) {
  return nlohmann::json::parse(read_text(checkpoint + "/config.json"));
}

// A tokenizer of 300 tokens (more than the tiny model's 64 ids: runs pass --vocab-size 300).
void make_tokenizer(const std::string& dir) {
  const CommandResult r = run_mone_in(dir, "tokenizer train --input /usr/share/common-licenses --vocab-size 300 --out tok/tokenizer.json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
}

TEST_SUITE("unit") {
  TEST_CASE("a spec's relative paths are found beside the spec first, then in the working directory") {
    ScratchDir dir;
    write_tiny_setup(dir.path());  // data/ and model.textproto
    std::filesystem::create_directories(dir.file("specs"));
    std::filesystem::copy_file(dir.file("model.textproto"), dir.file("specs/model.textproto"));
    write_text(dir.file("specs/train.textproto"),
               "model_spec: \"model.textproto\"\ntrain_data: \"../data\"\nval_data: \"../data\"\nrun_dir: \"run\"\n"
               "batch_size: 4\nseq_len: 16\nsteps: 2\neval_interval: 0\nthreads: 1\npeak_flops: 1e11\n");
    const std::string elsewhere = dir.file("elsewhere/deeper");
    std::filesystem::create_directories(elsewhere);
    // From a folder where neither model.textproto nor ../data exist: both are found beside the spec.
    CommandResult r = run_mone_in(elsewhere, "train --config ../../specs/train.textproto");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const std::string checkpoint = elsewhere + "/run/step_00000002";  // run_dir: the working directory's
    REQUIRE(std::filesystem::exists(checkpoint + "/model.safetensors"));
    // The checkpoint keeps absolute paths.
    const proto::TrainSpec kept =
        value_or_die(parse_train_spec(value_or_die(read_trainer_state(checkpoint)).train_spec_text, "state"));
    CHECK(kept.train_data() == dir.file("data"));
    CHECK(kept.model_spec() == dir.file("specs/model.textproto"));
    CHECK(kept.run_dir() == elsewhere + "/run");

    // Not beside the spec but in the working directory: found there.
    write_text(dir.file("specs/cwd.textproto"),
               "model_spec: \"model.textproto\"\ntrain_data: \"data\"\nrun_dir: \"run_cwd\"\n"
               "batch_size: 4\nseq_len: 16\nsteps: 1\neval_interval: 0\nthreads: 1\npeak_flops: 1e11\n");
    r = run_mone_in(dir.path(), "train --config specs/cwd.textproto");
    CHECK_MESSAGE(r.exit_code == 0, r.output);

    // In neither place: the error names the field and both places.
    write_text(dir.file("specs/missing.textproto"),
               "model_spec: \"nowhere.textproto\"\ntrain_data: \"../data\"\nsteps: 1\n");
    r = run_mone_in(elsewhere, "train --config ../../specs/missing.textproto");
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(has(r, "field model_spec = \"nowhere.textproto\": neither " + dir.file("specs/nowhere.textproto") +
                             " (beside the spec) nor " + elsewhere + "/nowhere.textproto (the working directory) exists"),
                  r.output);
  }

  TEST_CASE("the shipped train specs run from outside the repository") {
    ScratchDir dir;
    write_tiny_setup(dir.path());
    // configs/train/tiny_mone.textproto names its model as ../models/tiny_mone.textproto.
    const CommandResult r =
        run_mone_in(dir.path(), "train --config " + std::string(MONE_SOURCE_DIR) +
                                    "/configs/train/tiny_mone.textproto --data data --val-data data --vocab-size 64 "
                                    "--steps 1 --batch-size 2 --seq-len 16 --threads 1 --run-dir run --set eval_interval=0");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(config_json(dir.file("run/step_00000001"))["hidden_size"] == 128);
  }

  TEST_CASE("--set model.X=V changes one field of the model that model_spec or --model names") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 1\neval_interval: 0\n");
    CommandResult r = run_mone("train --config " + spec + " --set model.neuron_topk=4 --run-dir " + dir.file("a"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    nlohmann::json c = config_json(dir.file("a/step_00000001"));
    CHECK(c["neuron_topk"] == 4);
    CHECK(c["hidden_size"] == 32);  // the rest of model.textproto is kept
    CHECK(c["num_experts"] == 4);
    CHECK(c["name"] == "tiny-test");

    // With --model: that file's model, one field changed; enum values as config.json spells them.
    write_text(dir.file("moe.textproto"), tiny_model_text("MOE"));
    r = run_mone("train --config " + spec + " --model " + dir.file("moe.textproto") +
                 " --set model.num_hidden_layers=1 --set model.hidden_act=sigmoid --run-dir " + dir.file("b"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    c = config_json(dir.file("b/step_00000001"));
    CHECK(c["ffn_type"] == "moe");
    CHECK(c["num_hidden_layers"] == 1);
    CHECK(c["hidden_act"] == "sigmoid");

    r = run_mone("train --config " + spec + " --set model.hidden_act=gelu --run-dir " + dir.file("c"));
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(has(r, "Allowed: SILU, SIGMOID"), r.output);
    CHECK_FALSE(std::filesystem::exists(dir.file("c")));
  }

  TEST_CASE("--resume from another working directory continues exactly, with no warning") {
    ScratchDir dir;
    write_tiny_setup(dir.path(), "checkpoint_interval: 100\n");
    make_tokenizer(dir.path());
    // Relative paths, given where the data lives.
    const std::string flags = " --data data --val-data data --tokenizer tok/tokenizer.json --vocab-size 300";
    CommandResult straight = run_mone_in(dir.path(), "train --config train.textproto" + flags + " --run-dir straight");
    REQUIRE_MESSAGE(straight.exit_code == 0, straight.output);
    CommandResult first = run_mone_in(dir.path(), "train --config train.textproto" + flags + " --run-dir split --stop-after 6");
    REQUIRE_MESSAGE(first.exit_code == 0, first.output);

    ScratchDir elsewhere;
    CommandResult resumed = run_mone_in(elsewhere.path(), "train --resume " + dir.file("split"));
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    CHECK(has(resumed, "resuming from " + dir.file("split/step_00000006")));
    CHECK_FALSE(has(resumed, "warning"));
    CHECK(read_text(dir.file("split/step_00000012/model.safetensors")) ==
          read_text(dir.file("straight/step_00000012/model.safetensors")));
    CHECK(std::filesystem::exists(dir.file("split/tokenizer.json")));
  }

  TEST_CASE("--resume with the data given again by hand: another spelling is no change; real changes are named") {
    ScratchDir dir;
    write_tiny_setup(dir.path(), "checkpoint_interval: 100\n");
    REQUIRE(run_mone_in(dir.path(), "train --config train.textproto --data data --run-dir run --stop-after 4").exit_code == 0);

    ScratchDir elsewhere;
    CommandResult same = run_mone_in(elsewhere.path(), "train --resume " + dir.file("run") + " --data " + dir.path() +
                                                           "/./data/ --stop-after 6");
    REQUIRE_MESSAGE(same.exit_code == 0, same.output);
    CHECK_FALSE(has(same, "warning"));
    CHECK_FALSE(has(same, "note: changed"));

    CommandResult changed = run_mone_in(elsewhere.path(), "train --resume " + dir.file("run") +
                                                              " --steps 14 --set eval_interval=2 --stop-after 8");
    REQUIRE_MESSAGE(changed.exit_code == 0, changed.output);
    CHECK_MESSAGE(has(changed, "warning: this run changes steps 12 -> 14 since " + dir.file("run/step_00000006")),
                  changed.output);
    CHECK(has(changed, "(not an exact continuation)"));
    CHECK_MESSAGE(has(changed, "note: changed since " + dir.file("run/step_00000006") + ": eval_interval 4 -> 2"),
                  changed.output);
  }

  TEST_CASE("renaming only the model's name label does not block --resume") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "eval_interval: 0\n");
    REQUIRE(run_mone("train --config " + spec + " --stop-after 3").exit_code == 0);
    std::string model = read_text(dir.file("model.textproto"));
    model.replace(model.find("tiny-test"), 9, "renamed");
    write_text(dir.file("model.textproto"), model);
    const CommandResult r = run_mone("train --config " + spec + " --resume --stop-after 4");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(has(r, "note: the model's name label changed from \"tiny-test\" to \"renamed\""));
    CHECK(config_json(dir.file("run/step_00000004"))["name"] == "renamed");
    // Any other field still blocks it.
    model.replace(model.find("hidden_size: 32"), 15, "hidden_size: 64");
    write_text(dir.file("model.textproto"), model);
    const CommandResult other = run_mone("train --config " + spec + " --resume");
    CHECK(other.exit_code == 1);
    CHECK(has(other, "different model spec"));
    CHECK(has(other, "hidden_size"));
  }
}

}  // namespace
}  // namespace mone::train

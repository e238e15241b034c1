// --device and --precision where the CPU can check them: bf16 mixed precision is refused on the
// CPU by every command with the reason and the way out, `--device cuda` without a GPU says there
// is none, and the spec field parses and validates. (Training on a GPU: test_train_cuda.cpp.)
#include <doctest/doctest.h>

#include <fstream>

#include "core/storage.h"
#include "train/train_spec.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;

using mone_testing::has;

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("precision: BF16 with device cpu is refused by the spec check, naming the field and the way out") {
  ScratchDir dir;
  const std::string path = write_tiny_setup(dir.path(), "precision: BF16\n");
  proto::TrainSpec spec = value_or_die(load_train_spec(path));
  CHECK(spec.precision() == proto::TrainSpec::BF16);
  const Status s = resolve_train_spec(spec, path);
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.message()) ==
        path + ": field precision = BF16 needs device \"cuda\" (this spec has device \"cpu\"): bf16 mixed precision "
               "runs on the GPU only, the CPU kernels compute in f32; use --device cuda, or precision F32");
  spec.set_precision(proto::TrainSpec::F32);
  CHECK(resolve_train_spec(spec, path).ok());
  // The default is F32.
  CHECK(proto::TrainSpec().precision() == proto::TrainSpec::F32);
}

TEST_CASE("precision: mone train, eval, generate and bench refuse bf16 on the CPU; a bad value is a usage error") {
  ScratchDir dir;
  const std::string spec = write_tiny_setup(dir.path(), "steps: 2\neval_interval: 0\n");
  CommandResult r = run_mone("train --config " + spec + " --precision bf16");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(has(r, "field precision = BF16 needs device \"cuda\""), r.output);
  CHECK_FALSE(std::filesystem::exists(dir.file("run")));  // refused before anything was written

  r = run_mone("train --config " + spec);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK_MESSAGE(has(r, "on cpu in f32"), r.output);
  for (const std::string& command :
       {"eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") + " --precision bf16",
        "generate --checkpoint " + dir.file("run") + " --precision bf16 --max-tokens 2",
        "bench train --model " + dir.file("model.textproto") + " --precision bf16 --seq-len 16 --steps 1 --warmup 0"}) {
    r = run_mone(command);
    CHECK_MESSAGE(r.exit_code == 1, command, ": ", r.output);
    CHECK_MESSAGE(has(r, "bf16 mixed precision runs on CUDA only (the CPU kernels compute in f32 and f64)"), command,
                  ": ", r.output);
  }
  r = run_mone("train --config " + spec + " --precision fp16");
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(has(r, "--precision"), r.output);
}

TEST_CASE("device: a neuron selector that CUDA lacks is refused with device cuda by the spec check, GPU or not") {
  ScratchDir dir;
  const std::string spec = write_tiny_setup(dir.path(), "device: \"cuda\"\n");
  std::ofstream(dir.file("model.textproto"), std::ios::app) << "neuron_selector: SIGNED_GATE\n";
  CommandResult r = run_mone("train --config " + spec);
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(has(r, spec + ": model spec field neuron_selector: SIGNED_GATE runs on the CPU only (the CUDA kernels "
                           "select neurons by |G|, ABS_GATE); use --device cpu"),
                r.output);
  CHECK_FALSE(std::filesystem::exists(dir.file("run")));  // refused before anything was written
  // The same spec trains on the CPU.
  r = run_mone("train --config " + spec + " --device cpu --steps 4");
  CHECK_MESSAGE(r.exit_code == 0, r.output);
}

TEST_CASE("device: --device cuda without a GPU says so, for train and the commands that load a checkpoint") {
  if (cuda_device_count() > 0) {
    MESSAGE("a GPU is visible: test_train_cuda.cpp trains there");
    return;
  }
  ScratchDir dir;
  const std::string spec = write_tiny_setup(dir.path(), "steps: 2\neval_interval: 0\n");
  CommandResult r = run_mone("train --config " + spec + " --device cuda --run-dir " + dir.file("gpu"));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(has(r, spec + ": device \"cuda\": no GPU is visible here ("), r.output);
  CHECK_MESSAGE(has(r, "); use --device cpu"), r.output);
  REQUIRE(run_mone("train --config " + spec).exit_code == 0);
  for (const std::string& command :
       {"eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") + " --device cuda",
        "generate --checkpoint " + dir.file("run") + " --device cuda --max-tokens 2",
        "bench train --model " + dir.file("model.textproto") + " --device cuda --seq-len 16 --steps 1"}) {
    r = run_mone(command);
    CHECK_MESSAGE(r.exit_code == 1, command, ": ", r.output);
    CHECK_MESSAGE(has(r, "device \"cuda\": no GPU is visible here"), command, ": ", r.output);
  }
}

TEST_CASE("device: mone eval --dtype f64 --device cuda is refused with the reason, GPU or not") {
  ScratchDir dir;
  const std::string spec = write_tiny_setup(dir.path(), "steps: 2\neval_interval: 0\n");
  REQUIRE(run_mone("train --config " + spec).exit_code == 0);
  const CommandResult r =
      run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") + " --dtype f64 --device cuda");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(has(r, "--dtype f64 with --device cuda: the CUDA kernels compute in f32 and bf16; use --dtype f32 "
                       "(or --device cpu)"),
                r.output);
}

}  // TEST_SUITE("unit")

}  // namespace mone::train

// Fuzzes a checkpoint's trainer_state.json as `train --resume` reads it: read_trainer_state, the
// train spec it records (parsed, resolved and checked as check_train_spec does), and the data
// position the loader seeks to. Errors name the file.
#include "tests/fuzz/fuzz_util.h"
#include "train/checkpointing.h"
#include "train/data/shard.h"
#include "train/data/train_loader.h"
#include "train/train_spec.h"

using namespace mone;

namespace {

// A loader over one small shard, as the trainer has when it restores data_position.
train::TrainLoader& the_loader() {
  static train::TrainLoader* loader = [] {
    const std::string path = join_path(fuzz::scratch_dir(), "tokens.bin");
    std::vector<uint32_t> tokens(100);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<uint32_t>(i % 16);
    MONE_CHECK_OK(train::write_shard(path, tokens, 16));
    return new train::TrainLoader(value_or_die(train::TrainLoader::open({path}, 2, 4, 7), "loader"));
  }();
  return *loader;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = join_path(fuzz::scratch_dir(), "step_00000001");
  static const bool made = make_directories(dir).ok();
  if (!made) fuzz::fail("cannot create " + dir);
  const std::string path = fuzz::input_file("step_00000001/" + std::string(train::kTrainerStateFileName),
                                            fuzz::as_text(data, size));
  StatusOr<train::TrainerState> state = train::read_trainer_state(dir);
  fuzz::expect_names(state, path);
  if (!state.ok()) return 0;

  train::TrainLoader& loader = the_loader();
  MONE_CHECK_OK(loader.seek(state->data_position));
  std::vector<int32_t> inputs(8), targets(8);
  MONE_CHECK_OK(loader.next(inputs.data(), targets.data()));

  const std::string source = path + " (train_spec)";  // as `mone train --resume DIR` names it
  StatusOr<proto::TrainSpec> spec = train::parse_train_spec(state->train_spec_text, source);
  fuzz::expect_names(spec, source);
  if (spec.ok()) fuzz::check_train_spec(*spec, source);
  return 0;
}

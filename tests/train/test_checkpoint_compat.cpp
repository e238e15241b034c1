// Checkpoints written before the experts were stacked (one tensor per expert, no slices) still
// load bit for bit: the model's weights and the optimizer's moments, through the views of the
// stacked parameters. tests/data/checkpoint_before_stacking holds such a checkpoint, made by mone
// at commit 02f503b (micro MoNE: d 16, 2 layers, 4 experts of width 8, K_N 2, one shared expert)
// after 3 training steps.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "models/spec.h"
#include "tests/temp_dir.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpointing.h"

namespace mone::train {
namespace {

const std::string kOldCheckpoint = std::string(MONE_SOURCE_DIR) + "/tests/data/checkpoint_before_stacking";

// a and b hold the same bytes (same dtype and shape).
bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) == 0;
}

TEST_SUITE("unit") {

TEST_CASE("a checkpoint written before the experts were stacked loads bit for bit, weights and moments") {
  auto file = read_safetensors(kOldCheckpoint + "/model.safetensors");
  REQUIRE(file.ok());
  REQUIRE(file->tensors.count("model.layers.1.mlp.experts.3.down_proj.weight") == 1);

  auto model = load_model_from_checkpoint(kOldCheckpoint);
  REQUIRE_MESSAGE(model.ok(), model.status().message());
  models::ParameterList params = (*model)->parameters();
  const models::NamedTensorList loaded = models::checkpoint_tensors(params);
  CHECK(loaded.size() == file->tensors.size());
  // Not structured bindings below: CHECK_MESSAGE is a lambda (clang 14).
  for (const auto& named : loaded) CHECK_MESSAGE(same_bits(named.second, file->tensors.at(named.first)), named.first);
  // The experts really are stacked: one [E, D, d] parameter holds expert 3's slice.
  bool stacked = false;
  for (const auto& p : params) stacked = stacked || (p.param.shape() == Shape{4, 8, 16} && p.slice_names.size() == 4);
  CHECK(stacked);

  // Resume: the optimizer's moments come back through the same views.
  mone_testing::TempDir dir;
  const std::string run = dir.file("run");
  std::filesystem::create_directories(run);
  std::filesystem::copy(kOldCheckpoint, run + "/step_00000003");
  auto state = read_trainer_state(kOldCheckpoint);
  REQUIRE(state.ok());
  auto spec = models::parse_model_spec(state->model_spec_text, "trainer_state.json");
  REQUIRE(spec.ok());
  auto fresh = models::Transformer::create(*spec, 99);  // other weights, overwritten by the load
  REQUIRE(fresh.ok());
  models::ParameterList fresh_params = (*fresh)->parameters();
  auto opt = AdamW::create(fresh_params, {});
  REQUIRE(opt.ok());
  auto point = load_checkpoint_for_resume(run, *spec, fresh_params, *opt);
  REQUIRE_MESSAGE(point.ok(), point.status().message());
  CHECK(opt->step_count() == 3);
  for (const auto& named : models::checkpoint_tensors(fresh_params)) {
    CHECK_MESSAGE(same_bits(named.second, file->tensors.at(named.first)), named.first);
  }
  auto moments = read_safetensors(kOldCheckpoint + "/optimizer.safetensors");
  REQUIRE(moments.ok());
  int64_t compared = 0;
  for (const auto& [suffix, list] : {std::pair{".exp_avg", &opt->exp_avg()}, {".exp_avg_sq", &opt->exp_avg_sq()}}) {
    for (const auto& named : models::checkpoint_tensors(fresh_params, *list, suffix)) {
      CHECK_MESSAGE(same_bits(named.second, moments->tensors.at(named.first)), named.first);
      ++compared;
    }
  }
  CHECK(compared == static_cast<int64_t>(moments->tensors.size()));
}

}  // TEST_SUITE("unit")

}  // namespace
}  // namespace mone::train

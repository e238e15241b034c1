// Fuzzes the safetensors files of a checkpoint whose manifest matches them, so that the bytes get
// past verification into the loaders: `train --resume` (weights and AdamW moments) and
// `eval`/`generate` (the model a checkpoint describes).
//
// Input: one byte choosing the file (even: model.safetensors, odd: optimizer.safetensors), then
// its bytes. The other files are those of the tiny template checkpoint (fuzz_util.h).
#include "models/transformer.h"
#include "tests/fuzz/fuzz_util.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpointing.h"

using namespace mone;

namespace {

struct Template {
  std::string run_dir, dir;
  std::map<std::string, std::string> files;  // name -> bytes, manifest.json excluded
  proto::ModelSpec spec;
  std::unique_ptr<models::Transformer> model;
  models::ParameterList params;  // the model's, as the trainer holds them
  std::optional<train::AdamW> optimizer;
};

Template& the_template() {
  static Template* t = [] {
    auto* t = new Template;
    const std::string source = join_path(fuzz::scratch_dir(), "template");
    const std::string dir = value_or_die(fuzz::write_tiny_checkpoint(source), "tiny checkpoint");
    for (const std::string& name : value_or_die(list_directory(dir), "list")) {
      if (name != train::kManifestFileName) t->files[name] = fuzz::read_bytes(join_path(dir, name));
    }
    t->spec = value_or_die(fuzz::tiny_train_spec(), "tiny spec").model();
    t->model = value_or_die(models::Transformer::create(t->spec, 1), "tiny model");
    t->params = t->model->parameters();
    t->optimizer.emplace(value_or_die(train::AdamW::create(t->params, {}), "AdamW"));
    t->run_dir = join_path(fuzz::scratch_dir(), "run");
    t->dir = join_path(t->run_dir, train::checkpoint_dir_name(1));
    MONE_CHECK_OK(make_directories(t->dir));
    fuzz::write_bytes(join_path(t->run_dir, train::kLatestFileName), train::checkpoint_dir_name(1) + "\n");
    return t;
  }();
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Template& t = the_template();
  const std::string fuzzed = data[0] % 2 == 0 ? train::kModelFileName : train::kOptimizerFileName;
  for (const auto& [name, bytes] : t.files) {
    fuzz::write_bytes(join_path(t.dir, name), name == fuzzed ? fuzz::as_text(data + 1, size - 1) : bytes);
  }
  const std::string manifest_path = join_path(t.dir, train::kManifestFileName);
  ::unlink(manifest_path.c_str());
  nlohmann::json manifest = value_or_die(train::build_manifest(t.dir, 1), "manifest");
  MONE_CHECK_OK(train::write_json_file_atomic(manifest_path, manifest));

  const std::string fuzzed_path = join_path(t.dir, fuzzed);
  StatusOr<train::ResumePoint> resumed =
      train::load_checkpoint_for_resume(t.run_dir, t.spec, t.params, *t.optimizer);
  fuzz::expect_names(resumed, fuzzed_path);
  if (fuzzed == train::kModelFileName) {
    StatusOr<std::unique_ptr<models::Transformer>> loaded = train::load_model_from_checkpoint(t.dir);
    fuzz::expect_names(loaded, fuzzed_path);
    if (loaded.ok() != resumed.ok()) fuzz::fail("resume and eval disagree on model.safetensors");
  }
  return 0;
}

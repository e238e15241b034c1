// Fuzzes a checkpoint's config.json as `eval`, `generate` and `mone import` read it
// (read_json_file, then model_spec_from_config_json for mone's own, or read_hf_config for a
// transformers config: Mixtral, Qwen2-MoE, OLMoE): errors name the file; a valid spec keeps
// check_model_spec's promises (fuzz_util.h), and a transformers one is written back by
// hf_config_json as the same model.
#include "models/spec.h"
#include "tests/fuzz/fuzz_util.h"
#include "train/checkpoint/json_file.h"
#include "train/hf_config.h"
#include "train/model_config.h"

using namespace mone;

namespace {

void check_hf_config(const train::HfModelConfig& hf) {
  fuzz::check_model_spec(hf.spec);
  const nlohmann::json written = train::hf_config_json(hf.spec, hf.arch, "float32");
  StatusOr<train::HfModelConfig> again = train::read_hf_config(written, "the written config.json");
  if (!again.ok()) fuzz::fail("a written transformers config.json is refused: " + std::string(again.status().message()));
  if (again->arch != hf.arch) fuzz::fail("a transformers config.json changes architecture when written and read again");
  if (models::model_spec_to_text(again->spec) != models::model_spec_to_text(hf.spec)) {
    fuzz::fail("a transformers config.json changes when written and read again:\n" +
               models::model_spec_to_text(hf.spec) + "\nvs\n" + models::model_spec_to_text(again->spec));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::input_file("config.json", fuzz::as_text(data, size));
  StatusOr<nlohmann::json> config = train::read_json_file(path);
  fuzz::expect_names(config, path);
  if (!config.ok()) return 0;
  if (train::is_transformers_config(*config)) {
    StatusOr<train::HfModelConfig> hf = train::read_hf_config(*config, path);
    fuzz::expect_names(hf, path);
    if (hf.ok()) check_hf_config(*hf);
    return 0;
  }
  StatusOr<proto::ModelSpec> spec = train::model_spec_from_config_json(*config, path);
  fuzz::expect_names(spec, path);
  if (spec.ok()) fuzz::check_model_spec(*spec);
  return 0;
}

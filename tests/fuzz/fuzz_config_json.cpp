// Fuzzes a checkpoint's config.json as `eval` and `generate` read it (read_json_file, then
// model_spec_from_config_json): errors name the file; a valid spec keeps check_model_spec's
// promises (fuzz_util.h).
#include "tests/fuzz/fuzz_util.h"
#include "train/checkpoint/json_file.h"
#include "train/model_config.h"

using namespace mone;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::input_file("config.json", fuzz::as_text(data, size));
  StatusOr<nlohmann::json> config = train::read_json_file(path);
  fuzz::expect_names(config, path);
  if (!config.ok()) return 0;
  StatusOr<proto::ModelSpec> spec = train::model_spec_from_config_json(*config, path);
  fuzz::expect_names(spec, path);
  if (spec.ok()) fuzz::check_model_spec(*spec);
  return 0;
}

// Fuzzes the ModelSpec textproto parser and its validation: any text either gives a valid spec or
// an error naming the file; a valid spec keeps check_model_spec's promises (fuzz_util.h).
#include "models/spec.h"
#include "tests/fuzz/fuzz_util.h"

using namespace mone;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source = "fuzz/model.textproto";
  StatusOr<proto::ModelSpec> spec = models::parse_model_spec(std::string(fuzz::as_text(data, size)), source);
  fuzz::expect_names(spec, source);
  if (spec.ok()) fuzz::check_model_spec(*spec);
  return 0;
}

// Fuzzes the TrainSpec textproto parser, then resolves and validates the spec as `mone train`
// does: errors name the file; a valid spec keeps check_train_spec's promises (fuzz_util.h).
#include "tests/fuzz/fuzz_util.h"
#include "train/train_spec.h"

using namespace mone;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source = "fuzz/train.textproto";
  StatusOr<proto::TrainSpec> spec = train::parse_train_spec(std::string(fuzz::as_text(data, size)), source);
  fuzz::expect_names(spec, source);
  if (spec.ok()) fuzz::check_train_spec(*spec, source);
  return 0;
}

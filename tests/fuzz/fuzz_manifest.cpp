// Fuzzes what decides which checkpoint `train --resume`, `eval` and `generate` trust: manifest.json
// (verify_checkpoint) and the run directory's `latest` (find_resumable_checkpoint), over the intact
// files of the tiny template checkpoint (fuzz_util.h).
//
// Input: manifest.json, then optionally a NUL and the contents of `latest`.
#include "tests/fuzz/fuzz_util.h"
#include "train/checkpoint/checkpoint_dir.h"

using namespace mone;

namespace {

struct Template {
  std::string run_dir, dir, manifest_path, latest_path;
};

const Template& the_template() {
  static const Template t = [] {
    Template t;
    t.run_dir = join_path(fuzz::scratch_dir(), "run");
    t.dir = value_or_die(fuzz::write_tiny_checkpoint(t.run_dir), "tiny checkpoint");
    t.manifest_path = join_path(t.dir, train::kManifestFileName);
    t.latest_path = join_path(t.run_dir, train::kLatestFileName);
    return t;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Template& t = the_template();
  const auto [manifest, latest] = fuzz::split_at_nul(fuzz::as_text(data, size));
  fuzz::write_bytes(t.manifest_path, manifest);
  fuzz::write_bytes(t.latest_path, latest);

  const Status verified = train::verify_checkpoint(t.dir);
  fuzz::expect_names(verified, t.dir);
  std::vector<std::string> warnings;
  StatusOr<std::string> found = train::find_resumable_checkpoint(t.run_dir, &warnings);
  fuzz::expect_names(found, t.run_dir);
  // The one checkpoint is found exactly when its manifest verifies, whatever `latest` says.
  if (found.ok() != verified.ok()) fuzz::fail("find_resumable_checkpoint disagrees with verify_checkpoint");
  if (found.ok() && *found != t.dir) fuzz::fail("found " + *found + " instead of " + t.dir);
  return 0;
}

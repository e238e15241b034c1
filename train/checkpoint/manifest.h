// The manifest of a checkpoint directory: what a complete checkpoint must contain.
//
// manifest.json = {"format": "mone-checkpoint", "format_version": 1, "step": 100,
//                  "files": [{"name": "model.safetensors", "size": 1234, "sha256": "9f86..."},
//                            ...]}
// It is written last, inside the temporary directory, so a directory that has one was complete
// when it was renamed into place; verify_checkpoint() checks it is still intact.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace mone::train {

inline constexpr char kManifestFileName[] = "manifest.json";
inline constexpr int kCheckpointFormatVersion = 1;

// Describes every regular file of `dir` (name, size, sha256) after fsyncing it. Anything else in
// `dir` (a subdirectory, a link, a file already named manifest.json) is an error naming it.
StatusOr<nlohmann::json> build_manifest(const std::string& dir, int64_t step);

// The manifest is present and well formed, its step matches the directory name (step_XXXXXXXX),
// and every file it lists is present with the recorded size and sha256. Errors name the file.
Status verify_checkpoint(const std::string& dir);

}  // namespace mone::train

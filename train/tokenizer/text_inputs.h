// Reading training text from files and directories (used by `mone tokenizer train` and
// `mone data prepare`).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace mone::train {

// The whole file as bytes. Errors (NotFound / InvalidArgument / DataLoss) name the path.
StatusOr<std::string> read_file_bytes(const std::string& path);

// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
// failure never leaves a half-written file behind. Errors name the path.
Status write_file_atomically(const std::string& path, const std::string& bytes);

// One string per input file, in order: each path that is a file is read as given; each
// directory is walked recursively and its regular files are read in sorted path order, skipping
// binary files (any NUL byte), symbolic links and hidden entries (names starting with '.'). Errors: an empty path
// list, a path that does not exist or cannot be read, no files found at all.
StatusOr<std::vector<std::string>> read_text_inputs(const std::vector<std::string>& paths);

}  // namespace mone::train

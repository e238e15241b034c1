// Reading training text from files and directories (used by `mone tokenizer train` and
// `mone data prepare`).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace mone::train {

// One string per input file, in order: each path that is a file is read as given; each
// directory is walked recursively and its regular files are read in sorted path order, skipping
// binary files (any NUL byte), symbolic links and hidden entries (names starting with '.'). Errors: an empty path
// list, a path that does not exist or cannot be read, no files found at all.
StatusOr<std::vector<std::string>> read_text_inputs(const std::vector<std::string>& paths);

}  // namespace mone::train

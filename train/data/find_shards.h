// Turning what a user typed (a file, a directory, or a glob) into the list of shard files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mone::train {

// Resolves `path_or_dir_or_glob` to shard paths:
//   - a pattern with * ? or [ : every regular file glob(3) matches, sorted by name;
//   - a directory: every *.bin inside it (not recursive), sorted by name; when split is "train"
//     or "val", only names containing that word (llm.c names: fineweb_train_000001.bin,
//     tiny_shakespeare_val.bin);
//   - anything else: that one file, which must exist.
// split must be "", "train" or "val". Finding nothing is an error naming the path.
StatusOr<std::vector<std::string>> find_shards(const std::string& path_or_dir_or_glob, std::string_view split = "");

}  // namespace mone::train

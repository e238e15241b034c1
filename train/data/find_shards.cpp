#include "train/data/find_shards.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace mone::train {

namespace {

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

StatusOr<std::vector<std::string>> glob_shards(const std::string& pattern) {
  glob_t matches{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &matches);  // glob(3) sorts its results
  std::vector<std::string> paths;
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      if (is_regular_file(matches.gl_pathv[i])) paths.emplace_back(matches.gl_pathv[i]);
    }
  }
  ::globfree(&matches);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    return absl::InternalError(absl::StrCat("token shards: glob(3) failed on ", pattern, " (code ", rc, ")"));
  }
  if (paths.empty()) return absl::NotFoundError(absl::StrCat("token shards: no file matches ", pattern));
  return paths;
}

StatusOr<std::vector<std::string>> list_dir_shards(const std::string& dir, std::string_view split) {
  std::error_code error;
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".bin") || !entry.is_regular_file(error)) continue;
    if (!split.empty() && name.find(split) == std::string::npos) continue;
    paths.push_back(entry.path().string());
  }
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("token shards: cannot list directory ", dir));
  if (paths.empty()) {
    const std::string which = split.empty() ? "" : absl::StrCat(" with '", std::string(split), "' in the name");
    return absl::NotFoundError(absl::StrCat("token shards: no *.bin files", which, " in directory ", dir));
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

StatusOr<std::vector<std::string>> find_shards(const std::string& path_or_dir_or_glob, std::string_view split) {
  const std::string& path = path_or_dir_or_glob;
  if (split != "" && split != "train" && split != "val") {
    return absl::InvalidArgumentError(
        absl::StrCat("token shards in ", path, ": split '", std::string(split), "' must be empty, \"train\" or \"val\""));
  }
  if (path.empty()) return absl::InvalidArgumentError("token shards: empty path");
  if (path.find_first_of("*?[") != std::string::npos) return glob_shards(path);

  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("token shards: ", path));
  if (S_ISDIR(st.st_mode)) return list_dir_shards(path, split);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("token shards: ", path, " is not a file or a directory"));
  }
  return std::vector<std::string>{path};
}

}  // namespace mone::train

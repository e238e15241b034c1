#include "train/tokenizer/text_inputs.h"

#include "core/file_io.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_join.h"

namespace mone::train {
namespace fs = std::filesystem;


namespace {

bool is_hidden(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// The regular files under `dir` (symlinks, hidden files and hidden folders left out), sorted.
StatusOr<std::vector<std::string>> files_under(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (is_hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    // symlink_status: links are not followed (neither are linked folders), so a file linked
    // under two names is read once.
    if (fs::is_regular_file(it->symlink_status(ec))) files.push_back(it->path().string());
  }
  if (ec) return absl::InvalidArgumentError(absl::StrCat(dir, ": cannot list directory: ", ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

StatusOr<std::vector<std::string>> read_text_inputs(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::InvalidArgumentError("no input paths given");
  std::vector<std::string> texts;
  for (const std::string& path : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
    if (!fs::is_directory(st)) {
      MONE_ASSIGN_OR_RETURN(std::string text, read_file_to_string(path));
      texts.push_back(std::move(text));
      continue;
    }
    MONE_ASSIGN_OR_RETURN(std::vector<std::string> files, files_under(path));
    for (const std::string& file : files) {
      MONE_ASSIGN_OR_RETURN(std::string text, read_file_to_string(file));
      if (text.find('\0') != std::string::npos) continue;  // binary
      texts.push_back(std::move(text));
    }
  }
  if (texts.empty()) {
    return absl::NotFoundError(absl::StrCat("no text files found in: ", absl::StrJoin(paths, ", ")));
  }
  return texts;
}

}  // namespace mone::train

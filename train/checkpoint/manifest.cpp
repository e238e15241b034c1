#include "train/checkpoint/manifest.h"

#include <sys/stat.h>

#include <cerrno>
#include <set>

#include "train/checkpoint/checkpoint_dir.h"
#include "core/file_io.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/sha256.h"

namespace mone::train {
namespace {

// A manifest entry may only name a file directly inside the checkpoint directory.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// obj[key], or null when absent (const operator[] must not be used on a missing key).
const nlohmann::json& field(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Checks one manifest entry against the file on disk: present, same size, same sha256.
Status verify_file(const std::string& dir, const std::string& name, uint64_t size,
                   const std::string& sha256) {
  const std::string path = join_path(dir, name);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::DataLossError(absl::StrCat(path, ": listed in ", kManifestFileName,
                                              " but missing: the checkpoint is incomplete"));
    }
    return errno_status(errno, "stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::DataLossError(absl::StrCat(path, ": not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) != size) {
    return absl::DataLossError(
        absl::StrCat(path, ": ", st.st_size, " bytes, but ", kManifestFileName, " records ", size));
  }
  MONE_ASSIGN_OR_RETURN(std::string actual, sha256_hex_file(path));
  if (actual != sha256) {
    return absl::DataLossError(absl::StrCat(path, ": sha256 ", actual, " differs from ", sha256,
                                            " recorded in ", kManifestFileName,
                                            ": the file is corrupted"));
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<nlohmann::json> build_manifest(const std::string& dir, int64_t step) {
  MONE_ASSIGN_OR_RETURN(std::vector<std::string> names, list_directory(dir));
  nlohmann::json files = nlohmann::json::array();
  for (const std::string& name : names) {
    const std::string path = join_path(dir, name);
    if (name == kManifestFileName) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the name is reserved for the checkpoint manifest"));
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return errno_status(errno, "stat", path);
    if (!S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": a checkpoint may hold only regular files (no directories or links)"));
    }
    MONE_RETURN_IF_ERROR(fsync_file(path));
    MONE_ASSIGN_OR_RETURN(std::string sha256, sha256_hex_file(path));
    files.push_back(
        {{"name", name}, {"size", static_cast<uint64_t>(st.st_size)}, {"sha256", sha256}});
  }
  return nlohmann::json{{"format", "mone-checkpoint"},
                        {"format_version", kCheckpointFormatVersion},
                        {"step", step},
                        {"files", std::move(files)}};
}

Status verify_checkpoint(const std::string& dir) {
  const std::string manifest_path = join_path(dir, kManifestFileName);
  MONE_ASSIGN_OR_RETURN(const nlohmann::json manifest, read_json_file(manifest_path));
  auto bad = [&](auto&&... parts) {
    return absl::DataLossError(absl::StrCat(manifest_path, ": ", parts...));
  };
  if (!manifest.is_object()) return bad("expected a JSON object");
  const nlohmann::json& version = field(manifest, "format_version");
  if (!version.is_number_unsigned() || version.get<uint64_t>() != kCheckpointFormatVersion) {
    return bad("\"format_version\" is ", version.dump(), ", expected ", kCheckpointFormatVersion);
  }
  const nlohmann::json& step = field(manifest, "step");
  if (!step.is_number_unsigned()) return bad("\"step\" must be a non-negative integer");
  std::optional<int64_t> dir_step = checkpoint_step(dir);
  if (dir_step && static_cast<uint64_t>(*dir_step) != step.get<uint64_t>()) {
    return bad("records step ", step.get<uint64_t>(), " but the directory is step ", *dir_step);
  }
  const nlohmann::json& files = field(manifest, "files");
  if (!files.is_array()) return bad("\"files\" must be a list");

  std::set<std::string> seen;
  for (const nlohmann::json& f : files) {
    if (!f.is_object() || !field(f, "name").is_string() || !field(f, "size").is_number_unsigned() ||
        !field(f, "sha256").is_string()) {
      return bad(
          "each file needs \"name\" (string), \"size\" (integer) and \"sha256\" (string), got ",
          f.dump());
    }
    const std::string name = f.at("name").get<std::string>();
    const std::string sha256 = f.at("sha256").get<std::string>();
    if (!is_plain_file_name(name)) return bad("file name \"", name, "\" is not a plain file name");
    if (!seen.insert(name).second) return bad("file \"", name, "\" is listed twice");
    if (!is_sha256_hex(sha256)) return bad("file \"", name, "\": \"", sha256, "\" is not a sha256");
    MONE_RETURN_IF_ERROR(verify_file(dir, name, f.at("size").get<uint64_t>(), sha256));
  }
  return absl::OkStatus();
}

}  // namespace mone::train

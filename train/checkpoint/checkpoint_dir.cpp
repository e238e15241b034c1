#include "train/checkpoint/checkpoint_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/file_io.h"
#include "train/checkpoint/json_file.h"

namespace mone::train {
namespace {

// Hidden names used while a directory is being built, replaced or deleted. Anything carrying
// them is debris from a crash, removed at the start of the next commit.
constexpr char kTmpPrefix[] = ".tmp-";
constexpr char kReplacedPrefix[] = ".replaced-";
constexpr char kDeletingPrefix[] = ".deleting-";

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status with_context(const Status& s, const std::string& context) {
  if (s.ok()) return s;
  return Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

Status remove_crash_debris(const std::string& run_dir) {
  MONE_ASSIGN_OR_RETURN(std::vector<std::string> names, list_directory(run_dir));
  for (const std::string& name : names) {
    if (absl::StartsWith(name, kTmpPrefix) || absl::StartsWith(name, kReplacedPrefix) ||
        absl::StartsWith(name, kDeletingPrefix) || name == absl::StrCat(kLatestFileName, ".tmp")) {
      MONE_RETURN_IF_ERROR(remove_tree(join_path(run_dir, name)));
    }
  }
  return absl::OkStatus();
}

// Fills tmp_dir: the caller's files, then the manifest; then makes the entries durable.
Status write_and_seal(const std::string& tmp_dir, int64_t step,
                      const std::function<Status(const std::string&)>& write_files) {
  if (::mkdir(tmp_dir.c_str(), 0755) != 0) return errno_status(errno, "create directory", tmp_dir);
  MONE_RETURN_IF_ERROR(with_context(write_files(tmp_dir), absl::StrCat("writing ", tmp_dir)));
  MONE_ASSIGN_OR_RETURN(nlohmann::json manifest, build_manifest(tmp_dir, step));
  MONE_RETURN_IF_ERROR(write_json_file_atomic(join_path(tmp_dir, kManifestFileName), manifest));
  return fsync_dir(tmp_dir);
}

// Renames tmp_dir to run_dir/name and points `latest` at it. A checkpoint already called `name`
// is moved aside first and deleted only after `latest` is written; on failure everything is
// rolled back (best effort) to the state before the call.
Status publish(const std::string& run_dir, const std::string& tmp_dir, const std::string& name) {
  const std::string final_dir = join_path(run_dir, name);
  const std::string replaced = join_path(run_dir, absl::StrCat(kReplacedPrefix, name));
  const std::string latest = join_path(run_dir, kLatestFileName);
  const std::string latest_text = name + "\n";
  const StatusOr<std::string> old_latest = read_file_to_string(latest);

  const bool had_old = is_directory(final_dir);
  if (had_old) MONE_RETURN_IF_ERROR(rename_path(final_dir, replaced));
  Status s = rename_path(tmp_dir, final_dir);
  const bool moved = s.ok();
  if (s.ok()) s = fsync_dir(run_dir);
  if (s.ok()) s = write_string_atomic(latest, latest_text);
  if (s.ok()) {
    if (had_old) (void)remove_tree(replaced);  // debris removal retries on the next commit
    return s;
  }
  // Roll back: `latest` as it was (if it moved at all), the new directory gone, the old one back.
  StatusOr<std::string> now_latest = read_file_to_string(latest);
  if (now_latest.ok() && *now_latest == latest_text &&
      !(old_latest.ok() && *old_latest == latest_text)) {
    if (old_latest.ok()) {
      (void)write_string_atomic(latest, *old_latest);
    } else {
      ::unlink(latest.c_str());
    }
  }
  if (moved) (void)remove_tree(final_dir);
  if (had_old) (void)rename_path(replaced, final_dir);
  (void)fsync_dir(run_dir);
  return s;
}

// Keeps the newest keep_last checkpoints with a step <= `step`. Each victim is first renamed to a
// hidden name, so a crash mid-deletion leaves debris, never a half checkpoint under a real name.
void prune(const std::string& run_dir, int64_t step, int keep_last) {
  if (keep_last <= 0) return;
  std::vector<std::string> older;
  for (const std::string& dir : list_checkpoints(run_dir)) {
    if (checkpoint_step(dir).value_or(step + 1) <= step) older.push_back(dir);
  }
  const size_t keep = static_cast<size_t>(keep_last);
  for (size_t i = 0; i + keep < older.size(); ++i) {
    const std::string hidden =
        join_path(run_dir, absl::StrCat(kDeletingPrefix, base_name(older[i])));
    Status s = rename_path(older[i], hidden);
    if (s.ok()) s = remove_tree(hidden);
    // The new checkpoint is committed; a failed clean-up must not report the commit as failed.
    if (!s.ok()) std::cerr << "warning: pruning old checkpoint " << older[i] << ": " << s << "\n";
  }
}

}  // namespace

std::string checkpoint_dir_name(int64_t step) { return absl::StrFormat("step_%08d", step); }

std::optional<int64_t> checkpoint_step(const std::string& dir) {
  absl::string_view name = dir;
  while (name.size() > 1 && name.back() == '/') name.remove_suffix(1);
  name = name.substr(name.find_last_of('/') + 1);  // npos + 1 == 0
  if (!absl::ConsumePrefix(&name, "step_") || name.size() < 8 ||
      name.find_first_not_of("0123456789") != absl::string_view::npos) {
    return std::nullopt;
  }
  int64_t step = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), step);
  if (ec != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return step;
}

StatusOr<std::string> commit_checkpoint(
    const std::string& run_dir, int64_t step,
    const std::function<Status(const std::string& tmp_dir)>& write_files, int keep_last) {
  const std::string context = absl::StrCat("commit_checkpoint step ", step, " in ", run_dir);
  if (step < 0) return absl::InvalidArgumentError(absl::StrCat(context, ": negative step"));
  const std::string name = checkpoint_dir_name(step);
  const std::string tmp_dir = join_path(run_dir, absl::StrCat(kTmpPrefix, name));

  if (!is_directory(run_dir)) {  // a new run: its own directory entry must be durable too
    MONE_RETURN_IF_ERROR(with_context(make_directories(run_dir), context));
    MONE_RETURN_IF_ERROR(with_context(fsync_dir(parent_dir(run_dir)), context));
  }
  MONE_RETURN_IF_ERROR(with_context(remove_crash_debris(run_dir), context));
  Status s = write_and_seal(tmp_dir, step, write_files);
  if (s.ok()) s = publish(run_dir, tmp_dir, name);
  if (!s.ok()) {
    (void)remove_tree(tmp_dir);
    return with_context(s, context);
  }
  prune(run_dir, step, keep_last);
  return join_path(run_dir, name);
}

Status tidy_checkpoints(const std::string& run_dir, int64_t step, int keep_last) {
  MONE_RETURN_IF_ERROR(with_context(remove_crash_debris(run_dir), absl::StrCat("tidying ", run_dir)));
  prune(run_dir, step, keep_last);
  return absl::OkStatus();
}

StatusOr<std::string> find_resumable_checkpoint(const std::string& run_dir,
                                                std::vector<std::string>* warnings) {
  std::vector<std::string> dirs = list_checkpoints(run_dir);
  if (dirs.empty()) {
    return absl::NotFoundError(absl::StrCat("no checkpoints (step_XXXXXXXX) in ", run_dir));
  }
  std::vector<std::string> notes;
  const std::string latest_path = join_path(run_dir, kLatestFileName);
  std::optional<int64_t> latest_step;
  StatusOr<std::string> latest = read_file_to_string(latest_path);
  if (!latest.ok()) {
    notes.push_back(absl::StrCat(latest.status().message(), "; choosing by step"));
  } else {
    const std::string name(absl::StripAsciiWhitespace(*latest));
    const std::string dir = join_path(run_dir, name);
    latest_step = checkpoint_step(name);
    if (!latest_step || name.find('/') != std::string::npos ||
        std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
      notes.push_back(absl::StrCat(latest_path, " names \"", name,
                                   "\", which is not a checkpoint directory; choosing by step"));
      latest_step.reset();
    }
  }

  // Order of trust: the latest, then older by descending step, then newer than the latest.
  auto rank = [&](const std::string& dir) {
    int64_t s = *checkpoint_step(dir);
    int group = !latest_step ? 1 : s == *latest_step ? 0 : s < *latest_step ? 1 : 2;
    return std::pair(group, -s);
  };
  std::sort(dirs.begin(), dirs.end(),
            [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });

  std::optional<std::string> found;
  for (const std::string& dir : dirs) {
    Status s = verify_checkpoint(dir);
    if (s.ok()) {
      found = dir;
      break;
    }
    notes.push_back(absl::StrCat("skipping checkpoint ", dir, ": ", s.message()));
  }
  if (warnings != nullptr) warnings->insert(warnings->end(), notes.begin(), notes.end());
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("no checkpoint in ", run_dir, " verifies: ", absl::StrJoin(notes, "; ")));
  }
  return *found;
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  std::vector<std::string> dirs;
  StatusOr<std::vector<std::string>> names = list_directory(run_dir);
  if (!names.ok()) return dirs;
  for (const std::string& name : *names) {
    const std::string dir = join_path(run_dir, name);
    if (checkpoint_step(name) && is_directory(dir)) dirs.push_back(dir);
  }
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
    return *checkpoint_step(a) < *checkpoint_step(b);
  });
  return dirs;
}

bool has_checkpoints(const std::string& run_dir) { return !list_checkpoints(run_dir).empty(); }

}  // namespace mone::train

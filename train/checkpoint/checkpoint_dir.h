// Crash-safe checkpoint directories.
//
//   run_dir/step_00000100/   model.safetensors, optimizer.safetensors, ..., manifest.json
//   run_dir/step_00000200/
//   run_dir/latest           "step_00000200\n"
//
// commit_checkpoint() writes everything into run_dir/.tmp-step_XXXXXXXX, adds the manifest
// (names, sizes, sha256 of all files), fsyncs files and directory, renames the directory into
// place, fsyncs run_dir, and only then moves `latest` (atomically, via latest.tmp). A crash at any
// point therefore leaves either the previous state or the complete new checkpoint; a stale
// temporary directory is removed by the next commit. One writer per run directory.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/checkpoint/manifest.h"

namespace mone::train {

inline constexpr char kLatestFileName[] = "latest";

// "step_00000100" (8 digits, zero-padded; more digits above 99999999).
std::string checkpoint_dir_name(int64_t step);
// The step of a path whose last component is step_ followed by 8 or more digits.
std::optional<int64_t> checkpoint_step(const std::string& dir);

// Commits one checkpoint and returns its directory. write_files(tmp_dir) writes the files (only
// regular files, no manifest.json). keep_last > 0 then deletes the oldest checkpoints so that at
// most keep_last with a step <= `step` remain (newer, abandoned ones are left alone);
// keep_last <= 0 keeps all. An existing checkpoint of the same step is replaced only once the new
// one is in place. On failure the temporary directory is removed, `latest` and every earlier
// checkpoint are untouched, and the error names the path.
StatusOr<std::string> commit_checkpoint(
    const std::string& run_dir, int64_t step,
    const std::function<Status(const std::string& tmp_dir)>& write_files, int keep_last);

// Finishes what a crash inside commit_checkpoint may have left undone: removes its debris (the
// hidden temporary, replaced and deleting directories, latest.tmp) and prunes to keep_last as a
// commit of `step` would. A resumed run calls it before its first step, so a run killed between
// its last commit and the pruning still ends with keep_last checkpoints.
Status tidy_checkpoints(const std::string& run_dir, int64_t step, int keep_last);

// The newest checkpoint that verifies: first the one `latest` names, then older ones by
// descending step, then (rarely: a crash between rename and `latest`) newer ones. Each skipped
// candidate adds a line to *warnings (when given). NotFound when none verifies.
StatusOr<std::string> find_resumable_checkpoint(const std::string& run_dir,
                                                std::vector<std::string>* warnings = nullptr);

// The checkpoint directories of run_dir (full paths), by ascending step; empty when none or
// when run_dir does not exist.
std::vector<std::string> list_checkpoints(const std::string& run_dir);
bool has_checkpoints(const std::string& run_dir);

}  // namespace mone::train

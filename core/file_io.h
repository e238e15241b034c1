// Crash-safe file writing: the one place that writes, flushes, fsyncs and renames files.
//
// write_file_atomic(path, ...) writes `path.tmp`, fsyncs it, closes it, renames it over `path`
// and fsyncs the parent directory. Readers therefore see either the old file or the complete new
// one, never a prefix; a failure (disk full, EFBIG, I/O error) removes `path.tmp` and leaves
// `path` as it was. Every write/fsync/close/rename result is checked and the error names the file.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mone {

// An open file being written; write() loops over partial writes and EINTR.
class FileSink {
 public:
  FileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status write(const void* data, size_t nbytes);
  Status write(std::string_view bytes) { return write(bytes.data(), bytes.size()); }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// Writes `path` atomically: write_contents fills `path.tmp`, then fsync, close, rename, and an
// fsync of the parent directory. On any failure the tmp file is removed and `path` is untouched.
Status write_file_atomic(const std::string& path,
                         const std::function<Status(FileSink&)>& write_contents);
Status write_string_atomic(const std::string& path, std::string_view contents);

// Reads the file front to back in chunks of up to 1 MiB, handing each to `consume`.
// A missing file is NotFound; every error names the file.
Status read_file_chunks(const std::string& path,
                        const std::function<void(std::string_view chunk)>& consume);
// The whole file as bytes (same errors as read_file_chunks).
StatusOr<std::string> read_file_to_string(const std::string& path);

// fsync of an existing file (opened read-only) or directory, so its data and entries are durable.
Status fsync_file(const std::string& path);
Status fsync_dir(const std::string& path);

// The entry names of a directory (without "." and ".."), sorted.
StatusOr<std::vector<std::string>> list_directory(const std::string& dir);
// mkdir -p.
Status make_directories(const std::string& dir);
// For a file about to be written by work that takes a while: creates its folder (mkdir -p) and
// checks that the folder is writable and that `path` is not a directory, so a bad output path
// fails before the work, not after it. Errors name the path.
Status prepare_output_file(const std::string& path);
// rm -rf; a path that does not exist is fine.
Status remove_tree(const std::string& path);

// rename(2) with an error naming both paths.
Status rename_path(const std::string& from, const std::string& to);

// "a/b/c" -> "a/b"; "c" -> "."
std::string parent_dir(const std::string& path);
// "a/b/c" -> "c"
std::string base_name(const std::string& path);
// Joins with exactly one '/'.
std::string join_path(const std::string& dir, const std::string& name);

// An errno as a Status whose message names the path and the action: "open /x/y: No such file".
Status errno_status(int err, const std::string& action, const std::string& path);

}  // namespace mone

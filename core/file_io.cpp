#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

namespace mone {

Status errno_status(int err, const std::string& action, const std::string& path) {
  return absl::ErrnoToStatus(err, absl::StrCat(action, " ", path));
}

Status FileSink::write(const void* data, size_t nbytes) {
  const char* p = static_cast<const char*>(data);
  while (nbytes > 0) {
    ssize_t n = ::write(fd_, p, nbytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "write", path_);
    }
    p += n;
    nbytes -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

namespace {

// Opens `path` with `flags`, runs fsync, closes; each step's failure names the path.
Status open_and_fsync(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno_status(errno, "open", path);
  Status status = absl::OkStatus();
  if (::fsync(fd) != 0) status = errno_status(errno, "fsync", path);
  if (::close(fd) != 0 && status.ok()) status = errno_status(errno, "close", path);
  return status;
}

// Writes and fsyncs an already created file descriptor, then closes it (always).
Status fill_and_close(int fd, const std::string& path,
                      const std::function<Status(FileSink&)>& write_contents) {
  FileSink sink(fd, path);
  Status status = write_contents(sink);
  if (status.ok() && ::fsync(fd) != 0) status = errno_status(errno, "fsync", path);
  // close() can report a deferred write error (e.g. on NFS), so its result counts too.
  if (::close(fd) != 0 && status.ok()) status = errno_status(errno, "close", path);
  return status;
}

}  // namespace

Status write_file_atomic(const std::string& path,
                         const std::function<Status(FileSink&)>& write_contents) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(errno, "create", tmp);
  Status status = fill_and_close(fd, tmp, write_contents);
  if (status.ok()) status = rename_path(tmp, path);
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  // The rename is durable only once the directory entry is on disk.
  return fsync_dir(parent_dir(path));
}

Status write_string_atomic(const std::string& path, std::string_view contents) {
  return write_file_atomic(path, [&](FileSink& sink) { return sink.write(contents); });
}

Status read_file_chunks(const std::string& path,
                        const std::function<void(std::string_view chunk)>& consume) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": file does not exist"));
    return errno_status(errno, "open", path);
  }
  struct stat st;
  const bool have_stat = ::fstat(fd, &st) == 0;
  if (have_stat && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a file"));
  }
  // Chunks of 1 MiB, or one chunk as large as a smaller regular file (+1 byte to see its end).
  size_t chunk_bytes = size_t{1} << 20;
  if (have_stat && S_ISREG(st.st_mode)) chunk_bytes = std::min(chunk_bytes, static_cast<size_t>(st.st_size) + 1);
  std::vector<char> buf(chunk_bytes);
  Status status = absl::OkStatus();
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = errno_status(errno, "read", path);
      break;
    }
    if (n == 0) break;
    consume(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  ::close(fd);  // read-only: nothing can be lost on close
  return status;
}

StatusOr<std::string> read_file_to_string(const std::string& path) {
  std::string out;
  MONE_RETURN_IF_ERROR(read_file_chunks(path, [&](std::string_view chunk) { out.append(chunk); }));
  return out;
}

Status fsync_file(const std::string& path) { return open_and_fsync(path, O_RDONLY); }

Status fsync_dir(const std::string& path) { return open_and_fsync(path, O_RDONLY | O_DIRECTORY); }

StatusOr<std::vector<std::string>> list_directory(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return errno_status(ec.value(), "list directory", dir);
  std::sort(names.begin(), names.end());
  return names;
}

Status make_directories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return errno_status(ec.value(), "create directory", dir);
  return absl::OkStatus();
}

Status prepare_output_file(const std::string& path) {
  const std::string dir = parent_dir(path);
  MONE_RETURN_IF_ERROR(make_directories(dir));
  if (std::filesystem::is_directory(path)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": is a directory; give a file name"));
  }
  if (::access(dir.c_str(), W_OK) != 0) return errno_status(errno, "write into", dir);
  return absl::OkStatus();
}

Status remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return errno_status(ec.value(), "remove", path);
  return absl::OkStatus();
}

Status rename_path(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return errno_status(errno, "rename", absl::StrCat(from, " to ", to));
  }
  return absl::OkStatus();
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return absl::StrCat(dir, "/", name);
}

}  // namespace mone

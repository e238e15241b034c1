#include "train/data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

namespace mone::train {

// The header and the tokens are little-endian; we read them with plain loads.
static_assert(std::endian::native == std::endian::little, "mone's shard reader assumes a little-endian host");

namespace {

constexpr int64_t kMaxShardTokens = std::numeric_limits<int32_t>::max();

// Closes a file descriptor on every return path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports the error: on some filesystems a failed write surfaces only here.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status errno_error(int error, const std::string& what) { return absl::ErrnoToStatus(error, what); }

// write(2) until every byte is out; retries on EINTR and short writes (e.g. signals, pipes).
Status write_all(int fd, const void* data, size_t bytes, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, absl::StrCat("writing token shard ", path));
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Writes header and tokens to an open file, converting ids to the format's width in chunks so
// a large shard never needs a second full copy in memory.
Status write_shard_bytes(int fd, std::span<const uint32_t> tokens, const ShardFormat& format,
                         const std::string& path) {
  int32_t header[kShardHeaderInts] = {};
  header[0] = format.magic;
  header[1] = format.version;
  header[2] = static_cast<int32_t>(tokens.size());
  MONE_RETURN_IF_ERROR(write_all(fd, header, sizeof(header), path));

  if (format.token_bytes == 4) return write_all(fd, tokens.data(), tokens.size_bytes(), path);
  constexpr size_t kChunk = 1 << 16;
  std::vector<uint16_t> narrow(std::min(kChunk, tokens.size()));
  for (size_t begin = 0; begin < tokens.size(); begin += kChunk) {
    const size_t n = std::min(kChunk, tokens.size() - begin);
    for (size_t k = 0; k < n; ++k) narrow[k] = static_cast<uint16_t>(tokens[begin + k]);
    MONE_RETURN_IF_ERROR(write_all(fd, narrow.data(), n * sizeof(uint16_t), path));
  }
  return absl::OkStatus();
}

// fsync of the directory makes the rename itself durable, not just the file's bytes.
void sync_parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the file itself is already on disk
  ::fsync(fd);
  ::close(fd);
}

// Index of the first id >= vocab_size in ids[0, n), or -1.
template <typename Id>
int64_t find_token_at_least(const Id* ids, int64_t n, int64_t vocab_size) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] >= vocab_size) return i;
  }
  return -1;
}

const ShardFormat* format_for_magic(int32_t magic) {
  if (magic == kGpt2ShardFormat.magic) return &kGpt2ShardFormat;
  if (magic == kLlama3ShardFormat.magic) return &kLlama3ShardFormat;
  return nullptr;
}

}  // namespace

const ShardFormat& shard_format_for_vocab(int64_t vocab_size) {
  return vocab_size <= 65536 ? kGpt2ShardFormat : kLlama3ShardFormat;
}

Status write_shard(const std::string& path, std::span<const uint32_t> tokens, int64_t vocab_size) {
  constexpr int64_t kMaxVocab = int64_t{1} << 32;  // uint32 ids
  if (vocab_size < 1 || vocab_size > kMaxVocab) {
    return absl::InvalidArgumentError(absl::StrCat("writing token shard ", path, ": vocab_size ", vocab_size,
                                                   " is outside [1, 2^32]"));
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("writing token shard ", path, ": no tokens to write"));
  }
  if (static_cast<int64_t>(tokens.size()) > kMaxShardTokens) {
    return absl::InvalidArgumentError(absl::StrCat("writing token shard ", path, ": ", tokens.size(),
                                                   " tokens exceed the llm.c limit of 2^31 - 1 per shard"));
  }
  const int64_t bad = find_token_at_least(tokens.data(), static_cast<int64_t>(tokens.size()), vocab_size);
  if (bad >= 0) {
    return absl::InvalidArgumentError(absl::StrCat("writing token shard ", path, ": token ", tokens[bad],
                                                   " at position ", bad, " is >= vocab_size ", vocab_size));
  }

  const ShardFormat& format = shard_format_for_vocab(vocab_size);
  const std::string tmp = path + ".tmp";
  FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return errno_error(errno, absl::StrCat("cannot create token shard ", tmp));

  // Any failure from here removes the temporary file, so only whole shards ever exist.
  auto fail = [&](Status status) {
    ::unlink(tmp.c_str());
    return status;
  };
  if (Status s = write_shard_bytes(fd.get(), tokens, format, tmp); !s.ok()) return fail(s);
  if (::fsync(fd.get()) != 0) return fail(errno_error(errno, absl::StrCat("fsync of token shard ", tmp)));
  if (fd.close() != 0) return fail(errno_error(errno, absl::StrCat("closing token shard ", tmp)));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(errno_error(errno, absl::StrCat("renaming ", tmp, " to ", path)));
  }
  sync_parent_dir(path);
  return absl::OkStatus();
}

// ---- TokenShard -------------------------------------------------------------------------------

StatusOr<TokenShard> TokenShard::open(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_error(errno, absl::StrCat("cannot open token shard ", path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_error(errno, absl::StrCat("cannot stat token shard ", path));
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("token shard ", path, " is not a regular file"));
  }
  const int64_t file_bytes = st.st_size;
  if (file_bytes == 0) return absl::InvalidArgumentError(absl::StrCat("token shard ", path, " is empty (0 bytes)"));
  if (file_bytes < kShardHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat("token shard ", path, " is ", file_bytes,
                                                   " bytes, shorter than the 1024-byte llm.c header"));
  }

  TokenShard shard;
  shard.path_ = path;
  shard.map_bytes_ = static_cast<size_t>(file_bytes);
  void* map = ::mmap(nullptr, shard.map_bytes_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (map == MAP_FAILED) return errno_error(errno, absl::StrCat("cannot mmap token shard ", path));
  shard.map_ = map;  // from here the destructor unmaps, whatever we return

  int32_t header[3];
  std::memcpy(header, shard.map_, sizeof(header));
  const int32_t magic = header[0], version = header[1], count = header[2];
  const ShardFormat* format = format_for_magic(magic);
  if (format == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "token shard %s: magic %d is not an llm.c shard (expected %d for gpt-2 uint16 or %d for llama-3 uint32)",
        path, magic, kGpt2ShardFormat.magic, kLlama3ShardFormat.magic));
  }
  if (version != format->version) {
    return absl::InvalidArgumentError(absl::StrFormat("token shard %s: version %d is unknown for magic %d (%s), expected %d",
                                                      path, version, magic, format->name, format->version));
  }
  if (count == 0) return absl::InvalidArgumentError(absl::StrCat("token shard ", path, " holds no tokens"));
  if (count < 0) {
    return absl::InvalidArgumentError(absl::StrCat("token shard ", path, ": negative token count ", count, " in header"));
  }
  const int64_t expected_bytes = kShardHeaderBytes + int64_t{count} * format->token_bytes;
  if (expected_bytes != file_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "token shard %s: header says %d %s tokens, so %d bytes, but the file is %d bytes (truncated or corrupt)",
        path, count, format->name, expected_bytes, file_bytes));
  }
  shard.format_ = format;
  shard.size_ = count;
  shard.tokens_ = static_cast<const unsigned char*>(shard.map_) + kShardHeaderBytes;
  return shard;
}

TokenShard::TokenShard(TokenShard&& other) noexcept { *this = std::move(other); }

TokenShard& TokenShard::operator=(TokenShard&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    format_ = std::exchange(other.format_, nullptr);
    map_ = std::exchange(other.map_, nullptr);
    map_bytes_ = std::exchange(other.map_bytes_, 0);
    tokens_ = std::exchange(other.tokens_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

TokenShard::~TokenShard() { unmap(); }

void TokenShard::unmap() {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
  map_ = nullptr;
  map_bytes_ = 0;
}

uint32_t TokenShard::token(int64_t i) const {
  MONE_CHECK(i >= 0 && i < size_) << "token " << i << " of " << path_ << " (" << size_ << " tokens)";
  if (format_->token_bytes == 2) return reinterpret_cast<const uint16_t*>(tokens_)[i];
  return reinterpret_cast<const uint32_t*>(tokens_)[i];
}

void TokenShard::copy(int64_t begin, int64_t count, int32_t* out) const {
  MONE_CHECK(begin >= 0 && count >= 0 && begin + count <= size_)
      << "copy [" << begin << ", " << begin + count << ") of " << path_ << " (" << size_ << " tokens)";
  if (format_->token_bytes == 2) {
    const uint16_t* src = reinterpret_cast<const uint16_t*>(tokens_) + begin;
    for (int64_t k = 0; k < count; ++k) out[k] = src[k];
  } else {
    const uint32_t* src = reinterpret_cast<const uint32_t*>(tokens_) + begin;
    for (int64_t k = 0; k < count; ++k) out[k] = static_cast<int32_t>(src[k]);
  }
}

Status TokenShard::check_max_token(int64_t vocab_size) const {
  if (vocab_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("checking token shard ", path_, ": vocab_size ", vocab_size, " < 1"));
  }
  const int64_t i = format_->token_bytes == 2
                        ? find_token_at_least(reinterpret_cast<const uint16_t*>(tokens_), size_, vocab_size)
                        : find_token_at_least(reinterpret_cast<const uint32_t*>(tokens_), size_, vocab_size);
  if (i < 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("token shard ", path_, ": token ", token(i), " at position ", i,
                                                 " is >= vocab_size ", vocab_size));
}

StatusOr<std::vector<TokenShard>> open_shards(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::InvalidArgumentError("no token shards given");
  std::vector<TokenShard> shards;
  shards.reserve(paths.size());
  for (const std::string& path : paths) {
    MONE_ASSIGN_OR_RETURN(TokenShard shard, TokenShard::open(path));
    shards.push_back(std::move(shard));
  }
  return shards;
}

StatusOr<std::vector<TokenShard>> open_shards_for_batches(const std::string& who, const std::vector<std::string>& paths,
                                                          int64_t B, int64_t T) {
  if (B < 1 || T < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": batch size B = ", B, " and sequence length T = ", T, " must both be >= 1"));
  }
  return open_shards(paths);
}

std::string describe_shards(const std::vector<TokenShard>& shards) {
  std::string out;
  for (const TokenShard& shard : shards) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", shard.path(), " (", shard.size(), " tokens)");
  }
  return out;
}

}  // namespace mone::train

// Token shards in llm.c's format (karpathy/llm.c, dev/data/data_common.py), so shards written by
// llm.c's scripts load as they are and ours load in llm.c.
//
// Layout: a 1024-byte header of 256 little-endian int32, then the tokens.
//   header[0] magic, header[1] version, header[2] number of tokens; the rest is zero.
//   GPT-2 style:   magic 20240520, version 1, uint16 tokens (vocabularies up to 65536 ids)
//   LLaMA-3 style: magic 20240801, version 7, uint32 tokens
// Documents are separated by the EOT token placed before each one: every document starts with
// <|endoftext|>. The reader knows nothing of documents; it serves token ids.
//
// A TokenShard maps the file read-only; the OS pages tokens in on demand, so a loader can pick
// windows anywhere in a multi-gigabyte shard without reading it whole.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace mone::train {

inline constexpr int64_t kShardHeaderInts = 256;
inline constexpr int64_t kShardHeaderBytes = kShardHeaderInts * 4;  // 1024

// One of the two (magic, version, token width) triples llm.c writes.
struct ShardFormat {
  int32_t magic;
  int32_t version;
  int token_bytes;   // 2: uint16 ids, 4: uint32 ids
  const char* name;  // "gpt-2" or "llama-3", for messages
};
inline constexpr ShardFormat kGpt2ShardFormat{20240520, 1, 2, "gpt-2"};
inline constexpr ShardFormat kLlama3ShardFormat{20240801, 7, 4, "llama-3"};

// uint16 ids when every id of the vocabulary fits (vocab_size <= 65536), uint32 otherwise.
const ShardFormat& shard_format_for_vocab(int64_t vocab_size);

// Writes `tokens` as an llm.c shard at `path`, in the format shard_format_for_vocab picks.
// Every id must be < vocab_size; a shard holds 1 to 2^31 - 1 tokens (the count is an int32).
// The bytes go to path + ".tmp", are fsync'ed, then renamed over `path`: a crash or a full disk
// never leaves a half-written shard under the real name. Errors name the path.
Status write_shard(const std::string& path, std::span<const uint32_t> tokens, int64_t vocab_size);

// A read-only memory map of one shard, checked on open: size >= 1024 bytes, a known (magic,
// version) pair, at least one token, and a file size of exactly 1024 + count * token_bytes.
// Move-only; unmaps in the destructor.
class TokenShard {
 public:
  static StatusOr<TokenShard> open(const std::string& path);

  TokenShard(TokenShard&& other) noexcept;
  TokenShard& operator=(TokenShard&& other) noexcept;
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;
  ~TokenShard();

  const std::string& path() const { return path_; }
  const ShardFormat& format() const { return *format_; }
  int64_t size() const { return size_; }  // number of tokens

  // Token i, 0 <= i < size().
  uint32_t token(int64_t i) const;
  // out[k] = token(begin + k) for k < count; the range must lie inside the shard.
  void copy(int64_t begin, int64_t count, int32_t* out) const;

  // Scans every token; an id >= vocab_size is an error naming the file, the position and the id.
  Status check_max_token(int64_t vocab_size) const;

 private:
  TokenShard() = default;
  void unmap();

  std::string path_;
  const ShardFormat* format_ = nullptr;
  void* map_ = nullptr;  // the whole file
  size_t map_bytes_ = 0;
  const unsigned char* tokens_ = nullptr;  // map_ + 1024
  int64_t size_ = 0;
};

// Opens every path in order; an empty list is an error.
StatusOr<std::vector<TokenShard>> open_shards(const std::vector<std::string>& paths);

// The common start of both loaders: checks batch size B and sequence length T are >= 1, then opens
// the shards. `who` ("train loader", "eval reader") starts every error message.
StatusOr<std::vector<TokenShard>> open_shards_for_batches(const std::string& who, const std::vector<std::string>& paths,
                                                          int64_t B, int64_t T);

// "a.bin (1000 tokens), b.bin (24 tokens)": for errors about how much data there is.
std::string describe_shards(const std::vector<TokenShard>& shards);

}  // namespace mone::train

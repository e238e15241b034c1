// A byte-level BPE tokenizer (GPT-2's scheme): text -> token ids -> the same bytes back.
//
// Encoding: split the text into words with the pre-tokenizer's regex, write each word as its
// bytes (one token per byte), then apply merges: repeatedly join the adjacent pair with the
// lowest merge rank (leftmost first on equal rank) until no adjacent pair has a merge. Tokens are
// raw bytes inside mone, so decoding is concatenation and decode(encode(x)) == x for any bytes x.
//
// Special tokens (e.g. <|endoftext|>, the document separator) are never produced by BPE: encode()
// treats their text as ordinary characters, encode_with_special() emits their ids where their
// exact text appears. A Tokenizer is immutable after create(), cheap to copy, and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "train/tokenizer/pretokenizer.h"

namespace mone::train {

// The text of the end-of-text token that separates documents.
inline constexpr std::string_view kEndOfText = "<|endoftext|>";

// Everything a byte-level BPE tokenizer is made of; Tokenizer::create checks it.
struct TokenizerParts {
  std::vector<std::string> tokens;                   // token id -> its bytes (a special: its text)
  std::vector<std::pair<int32_t, int32_t>> merges;   // in rank order: (left id, right id); the
                                                     // result is the token spelled left + right
  std::vector<int32_t> special_ids;                  // ids of special (added) tokens
  std::string split_pattern = std::string(kGpt2SplitPattern);
  bool ignore_merges = false;  // HF BPE option: a word that is itself a token is emitted whole
};

class Tokenizer {
 public:
  // Checks and indexes `parts`. Errors (message names the token, byte or merge): no token for
  // some byte 0..255, an empty or duplicated token, a special id out of range or repeated, a merge
  // with an id out of range or special, a merge whose result is not a token, a bad split regex.
  static StatusOr<Tokenizer> create(TokenizerParts parts);

  // Text (any bytes) -> ids; special-token text is encoded as ordinary characters.
  std::vector<int32_t> encode(std::string_view text) const;
  // As encode(), but the exact text of a special token becomes its id (leftmost, then longest).
  std::vector<int32_t> encode_with_special(std::string_view text) const;
  // Ids -> bytes. Ids outside [0, vocab_size()) decode to nothing (see is_valid_id).
  std::string decode(std::span<const int32_t> ids) const;

  int32_t vocab_size() const { return static_cast<int32_t>(parts_.tokens.size()); }
  bool is_valid_id(int32_t id) const { return id >= 0 && id < vocab_size(); }
  // The id of <|endoftext|> (a special token), or -1 when this tokenizer has none.
  int32_t eot_id() const { return eot_id_; }
  bool has_eot() const { return eot_id_ >= 0; }
  bool is_special(int32_t id) const { return is_valid_id(id) && is_special_[id]; }
  // The bytes of token `id` (empty for an invalid id).
  std::string_view token_bytes(int32_t id) const;
  // The id of the token with these bytes, or of the special token with this text (checked first).
  std::optional<int32_t> id_of(std::string_view token) const;

  const TokenizerParts& parts() const { return parts_; }
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return parts_.merges; }

  // Writes a Hugging Face tokenizer.json (tokenizer_files.cpp). Error: the file cannot be written.
  Status save(const std::string& path) const;

 private:
  struct WordCache;
  struct Merge {
    int32_t rank;
    int32_t result;
  };

  Tokenizer(TokenizerParts parts, PreTokenizer pre_tokenizer);
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  const Merge* find_merge(int32_t a, int32_t b) const;
  void encode_ordinary(std::string_view text, std::vector<int32_t>& out) const;
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  std::vector<int32_t> apply_merges(std::string_view word) const;

  TokenizerParts parts_;
  PreTokenizer pre_tokenizer_;
  std::vector<bool> is_special_;
  int32_t eot_id_ = -1;
  int32_t byte_id_[256] = {};
  std::unordered_map<std::string, int32_t> id_of_bytes_;     // ordinary tokens
  std::unordered_map<std::string, int32_t> id_of_special_;   // special tokens by text
  std::unordered_map<uint64_t, Merge> merge_of_pair_;
  std::shared_ptr<WordCache> cache_;  // memoised words; shared by copies (same tables)
};

}  // namespace mone::train

// Pre-tokenisation: cutting text into "words" before BPE, with a regex run through PCRE2.
//
// BPE never merges across a word boundary, so the split regex decides what a token can span.
// GPT-2's regex keeps contractions, letter runs, digit runs and punctuation runs apart, each with
// at most one leading space, and leaves whitespace before a word as its own piece.
//
// Any byte string splits, valid UTF-8 or not: the regex runs in UTF mode with
// PCRE2_MATCH_INVALID_UTF, so an invalid sequence can never be part of a match; the bytes between
// two matches (necessarily invalid UTF-8) become a piece of their own. The pieces always
// concatenate back to the input, which is what makes decode(encode(x)) == x for every x.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "core/status.h"

namespace mone::train {

// GPT-2's split regex (openai/gpt-2 encoder.py), unchanged.
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class PreTokenizer {
 public:
  // Compiles `pattern` (UTF + Unicode properties, JIT when available). Error: the regex does not
  // compile; the message shows PCRE2's reason and the offset.
  static StatusOr<PreTokenizer> create(std::string_view pattern = kGpt2SplitPattern);

  // Calls `piece` for each piece of `text`, in order. Never fails; thread-safe.
  void split(std::string_view text, absl::FunctionRef<void(std::string_view)> piece) const;
  std::vector<std::string_view> split(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Compiled;
  PreTokenizer(std::string pattern, std::shared_ptr<const Compiled> compiled)
      : pattern_(std::move(pattern)), compiled_(std::move(compiled)) {}

  std::string pattern_;
  std::shared_ptr<const Compiled> compiled_;  // immutable after compiling: shared by copies
};

}  // namespace mone::train

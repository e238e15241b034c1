// Training a byte-level BPE tokenizer on text (Sennrich et al. 2016, GPT-2's byte-level variant).
//
// Start from the 256 byte tokens (id = byte value). Split the texts into words with the
// pre-tokenizer and count each distinct word. Then repeat: find the adjacent token pair that
// occurs most often (over all words, weighted by word count), add the token that joins it, and
// replace the pair by it in every word. Finally <|endoftext|> is added as the last id.
//
// Ties: among pairs with the same count, the one with the lowest (left id, right id) wins
// (lexicographic on ids, the rule Hugging Face's trainer uses). Since byte tokens have id = byte
// value and merged tokens get increasing ids, "aa" (97, 97) beats "ab" (97, 98), and a pair of
// older tokens beats a pair involving a newer one.
//
// Cost: pair counts are kept incrementally, with an index from each pair to the words holding it;
// a merge touches only those words, and a lazy max-heap finds the next pair. The whole run is
// roughly (total length of the affected words) per merge, not a recount of the corpus.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/tokenizer/tokenizer.h"

namespace mone::train {

struct BpeTrainOptions {
  // Stop merging when the most frequent pair occurs fewer times than this (a pair seen once
  // only memorises the corpus). Must be >= 1.
  int64_t min_pair_count = 2;
  // The pre-tokenizer regex (GPT-2's by default).
  std::string split_pattern = std::string(kGpt2SplitPattern);
  // Called after each merge with (merges done, merges wanted = vocab_size - 257); may be empty.
  std::function<void(int64_t done, int64_t total)> progress;
};

// Trains on `texts` (each a document; they are only pre-tokenised, never joined; the text
// <|endoftext|> inside one also separates documents and is not counted). `vocab_size`
// counts everything, byte tokens and <|endoftext|> included, so it must be >= 257. The result has
// exactly vocab_size tokens unless the corpus runs out of pairs occurring min_pair_count times,
// in which case it is smaller (check Tokenizer::vocab_size()). Errors: vocab_size < 257,
// min_pair_count < 1, a split regex that does not compile.
StatusOr<Tokenizer> train_bpe(const std::vector<std::string>& texts, int vocab_size,
                              const BpeTrainOptions& options = {});

}  // namespace mone::train

#include "train/tokenizer/bpe_trainer.h"

#include <queue>
#include <string_view>
#include <unordered_map>

namespace mone::train {
namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
int32_t left_of(uint64_t key) { return static_cast<int32_t>(key >> 32); }
int32_t right_of(uint64_t key) { return static_cast<int32_t>(key & 0xFFFFFFFFu); }

// A heap entry: a pair and its count when pushed. Counts of old pairs only fall, so an entry may
// overstate its pair's count but a current one is always present; stale entries are re-checked.
struct Candidate {
  int64_t count;
  uint64_t key;
  // "Less" for std::priority_queue (a max-heap): higher count first, then lower (left, right).
  bool operator<(const Candidate& o) const { return count != o.count ? count < o.count : key > o.key; }
};

// The state of training: every distinct word as its current tokens, with its count.
class BpeState {
 public:
  BpeState(std::vector<std::vector<int32_t>> words, std::vector<int64_t> counts)
      : words_(std::move(words)), counts_(std::move(counts)), last_merge_(words_.size(), -1) {
    for (int32_t w = 0; w < static_cast<int32_t>(words_.size()); ++w) add_pairs(w, -1);
    for (const auto& [key, count] : pair_count_) heap_.push({count, key});
  }

  // The most frequent pair (ties: lowest ids) and its count; count 0 when none is left.
  Candidate best() {
    while (!heap_.empty()) {
      Candidate c = heap_.top();
      heap_.pop();
      auto it = pair_count_.find(c.key);
      int64_t actual = it == pair_count_.end() ? 0 : it->second;
      if (actual == c.count) return c;
      if (actual > 0 && actual < c.count) heap_.push({actual, c.key});  // overstated: requeue
    }
    return {0, 0};
  }

  // Replaces every occurrence of `key`'s pair (left to right, not overlapping) by `joined`.
  void merge(int64_t merge_index, uint64_t key, int32_t joined) {
    const int32_t a = left_of(key), b = right_of(key);
    std::vector<int32_t> holders = std::move(words_with_[key]);
    words_with_.erase(key);
    touched_.clear();
    for (int32_t w : holders) {
      if (last_merge_[w] == merge_index) continue;  // listed twice
      last_merge_[w] = merge_index;
      std::vector<int32_t>& s = words_[w];
      // The pair counts of this word: take all out, merge, put all back. Only pairs with
      // `joined` can end up higher than before; add_pairs records them for the heap.
      remove_pairs(w);
      size_t out = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          s[out++] = joined;
          ++i;
        } else {
          s[out++] = s[i];
        }
      }
      s.resize(out);
      add_pairs(w, joined);
    }
    pair_count_.erase(key);
    for (uint64_t k : touched_) heap_.push({pair_count_[k], k});
  }

 private:
  void remove_pairs(int32_t w) {
    const std::vector<int32_t>& s = words_[w];
    for (size_t i = 0; i + 1 < s.size(); ++i) pair_count_[pair_key(s[i], s[i + 1])] -= counts_[w];
  }
  // Counts w's pairs and lists w under each pair that contains `fresh` (or under every pair when
  // fresh < 0, at the start). Pairs with `fresh` go to touched_ for re-queueing.
  void add_pairs(int32_t w, int32_t fresh) {
    const std::vector<int32_t>& s = words_[w];
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      uint64_t k = pair_key(s[i], s[i + 1]);
      pair_count_[k] += counts_[w];
      if (fresh >= 0 && s[i] != fresh && s[i + 1] != fresh) continue;
      std::vector<int32_t>& list = words_with_[k];
      if (list.empty() || list.back() != w) list.push_back(w);
      if (fresh >= 0) touched_.push_back(k);
    }
  }

  std::vector<std::vector<int32_t>> words_;
  std::vector<int64_t> counts_;
  std::vector<int64_t> last_merge_;  // per word: the last merge that rewrote it
  std::unordered_map<uint64_t, int64_t> pair_count_;
  std::unordered_map<uint64_t, std::vector<int32_t>> words_with_;  // may hold stale words
  std::priority_queue<Candidate> heap_;
  std::vector<uint64_t> touched_;
};

}  // namespace

StatusOr<Tokenizer> train_bpe(const std::vector<std::string>& texts, int vocab_size,
                              const BpeTrainOptions& options) {
  if (vocab_size < 257) {
    return absl::InvalidArgumentError(absl::StrCat("vocab_size ", vocab_size,
                                                   " is too small: byte-level BPE needs the 256 byte tokens plus ",
                                                   std::string(kEndOfText), ", so at least 257"));
  }
  if (options.min_pair_count < 1) {
    return absl::InvalidArgumentError(absl::StrCat("min_pair_count must be >= 1, got ", options.min_pair_count));
  }
  MONE_ASSIGN_OR_RETURN(PreTokenizer pre_tokenizer, PreTokenizer::create(options.split_pattern));

  // Distinct words and their counts (views into `texts`, which outlive this function's use).
  // <|endoftext|> inside a text separates documents: its pieces ("<|", "endoftext", "|>") are
  // not words of the language, so they are not counted.
  std::unordered_map<std::string_view, int64_t> word_count;
  auto count_words = [&](std::string_view text) {
    pre_tokenizer.split(text, [&](std::string_view word) { ++word_count[word]; });
  };
  for (std::string_view text : texts) {
    for (size_t at; (at = text.find(kEndOfText)) != std::string_view::npos;) {
      count_words(text.substr(0, at));
      text.remove_prefix(at + kEndOfText.size());
    }
    count_words(text);
  }
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> counts;
  words.reserve(word_count.size());
  for (const auto& [word, count] : word_count) {
    std::vector<int32_t>& ids = words.emplace_back();
    for (unsigned char byte : word) ids.push_back(byte);  // byte token id = byte value
    counts.push_back(count);
  }
  word_count.clear();

  TokenizerParts parts;
  parts.split_pattern = options.split_pattern;
  for (int b = 0; b < 256; ++b) parts.tokens.emplace_back(1, static_cast<char>(b));
  std::unordered_map<std::string, int32_t> id_of_bytes;
  for (int b = 0; b < 256; ++b) id_of_bytes[parts.tokens[b]] = b;

  BpeState state(std::move(words), std::move(counts));
  const int64_t wanted = vocab_size - 257;
  for (int64_t m = 0; static_cast<int64_t>(parts.tokens.size()) < vocab_size - 1; ++m) {
    Candidate best = state.best();
    if (best.count < options.min_pair_count) break;  // count 0: no pairs left at all
    const int32_t a = left_of(best.key), b = right_of(best.key);
    // Rarely two merges spell the same bytes ("ab"+"c" and "a"+"bc"); the second one then
    // produces the existing token instead of a duplicate.
    std::string joined = parts.tokens[a] + parts.tokens[b];
    auto [it, is_new] = id_of_bytes.emplace(joined, static_cast<int32_t>(parts.tokens.size()));
    if (is_new) parts.tokens.push_back(std::move(joined));
    parts.merges.emplace_back(a, b);
    state.merge(m, best.key, it->second);
    if (options.progress) options.progress(static_cast<int64_t>(parts.tokens.size()) - 256, wanted);
  }

  parts.special_ids.push_back(static_cast<int32_t>(parts.tokens.size()));
  parts.tokens.emplace_back(kEndOfText);
  return Tokenizer::create(std::move(parts));
}

}  // namespace mone::train

#include "train/tokenizer/tokenizer.h"

#include <algorithm>
#include <mutex>
#include <queue>

#include "absl/strings/str_format.h"
#include "train/tokenizer/byte_level.h"

namespace mone::train {

// Memoised BPE results for words seen before. Text repeats its words (Zipf), so most lookups
// hit. Sharded by hash so threads encoding in parallel rarely wait on the same lock; each shard
// is bounded: when full it is emptied and refills with what is frequent now.
struct Tokenizer::WordCache {
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxEntriesPerShard = 1 << 13;
  static constexpr size_t kMaxWordBytes = 64;  // longer words are rare: not worth the memory
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>> words;
  };
  Shard shards[kShards];
  Shard& shard_of(const std::string& word) { return shards[std::hash<std::string>()(word) % kShards]; }
};

namespace {

// How a token is shown in messages: its byte-level spelling, quoted.
std::string spelled(std::string_view bytes) { return "'" + bytes_to_byte_level(bytes) + "'"; }

}  // namespace

Tokenizer::Tokenizer(TokenizerParts parts, PreTokenizer pre_tokenizer)
    : parts_(std::move(parts)),
      pre_tokenizer_(std::move(pre_tokenizer)),
      cache_(std::make_shared<WordCache>()) {}

StatusOr<Tokenizer> Tokenizer::create(TokenizerParts parts) {
  MONE_ASSIGN_OR_RETURN(PreTokenizer pre_tokenizer, PreTokenizer::create(parts.split_pattern));
  const auto n = static_cast<int64_t>(parts.tokens.size());
  if (n > INT32_MAX) return absl::InvalidArgumentError(absl::StrCat("too many tokens: ", n));
  Tokenizer t(std::move(parts), std::move(pre_tokenizer));
  const TokenizerParts& p = t.parts_;

  // Special tokens: in range, each once, non-empty text, texts distinct.
  t.is_special_.assign(n, false);
  for (int32_t id : p.special_ids) {
    if (id < 0 || id >= n) {
      return absl::InvalidArgumentError(absl::StrCat("special token id ", id, " is outside the vocabulary [0, ", n, ")"));
    }
    if (t.is_special_[id]) return absl::InvalidArgumentError(absl::StrCat("special token id ", id, " is listed twice"));
    const std::string& text = p.tokens[id];
    if (text.empty()) return absl::InvalidArgumentError(absl::StrCat("special token ", id, " has empty text"));
    auto [it, inserted] = t.id_of_special_.emplace(text, id);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("special tokens ", it->second, " and ", id, " have the same text \"", text, "\""));
    }
    t.is_special_[id] = true;
    if (text == kEndOfText) t.eot_id_ = id;
  }

  // Ordinary tokens: non-empty, distinct, and every single byte among them.
  for (int32_t id = 0; id < n; ++id) {
    if (t.is_special_[id]) continue;
    const std::string& bytes = p.tokens[id];
    if (bytes.empty()) return absl::InvalidArgumentError(absl::StrCat("token ", id, " is empty"));
    auto [it, inserted] = t.id_of_bytes_.emplace(bytes, id);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("tokens ", it->second, " and ", id, " are both ", spelled(bytes)));
    }
  }
  for (int b = 0; b < 256; ++b) {
    auto it = t.id_of_bytes_.find(std::string(1, static_cast<char>(b)));
    if (it == t.id_of_bytes_.end()) {
      return absl::InvalidArgumentError(absl::StrFormat("byte 0x%02X (spelled %s) has no token, so some text cannot be encoded",
                                                        b, spelled(std::string(1, static_cast<char>(b)))));
    }
    t.byte_id_[b] = it->second;
  }

  // Merges: both sides ordinary tokens, and the joined bytes a token. A repeated pair takes the
  // later rank, as in GPT-2's encoder.py (a dict built from the merge list).
  for (size_t rank = 0; rank < p.merges.size(); ++rank) {
    auto [a, b] = p.merges[rank];
    std::string where = absl::StrCat("merge ", rank);
    for (int32_t side : {a, b}) {
      if (side < 0 || side >= n) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": token id ", side, " is outside the vocabulary [0, ", n, ")"));
      }
      if (t.is_special_[side]) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": special token \"", p.tokens[side], "\" cannot be merged"));
      }
    }
    std::string joined = p.tokens[a] + p.tokens[b];
    auto it = t.id_of_bytes_.find(joined);
    if (it == t.id_of_bytes_.end()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " (", spelled(p.tokens[a]), " + ", spelled(p.tokens[b]),
                                                     "): the merged token ", spelled(joined), " is not in the vocabulary"));
    }
    t.merge_of_pair_[pair_key(a, b)] = Merge{static_cast<int32_t>(rank), it->second};
  }
  return t;
}

const Tokenizer::Merge* Tokenizer::find_merge(int32_t a, int32_t b) const {
  auto it = merge_of_pair_.find(pair_key(a, b));
  return it == merge_of_pair_.end() ? nullptr : &it->second;
}

// BPE on one word. Symbols form a linked list over the word's bytes; a min-heap holds candidate
// pairs ordered by (merge rank, position), so each step merges the lowest-rank pair, leftmost
// first: the same result as GPT-2's "merge the best bigram everywhere, repeat", in
// O(n log n) instead of O(n^2). Heap entries go stale when a neighbour merges; they are checked
// when popped.
std::vector<int32_t> Tokenizer::apply_merges(std::string_view word) const {
  const int n = static_cast<int>(word.size());
  if (n == 0) return {};
  std::vector<int32_t> id(n), prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    id[i] = byte_id_[static_cast<unsigned char>(word[i])];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int32_t rank, left;  // the pair (left, next[left])
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto push = [&](int left) {
    if (left < 0 || next[left] < 0) return;
    if (const Merge* m = find_merge(id[left], id[next[left]])) heap.push({m->rank, left});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);

  std::vector<bool> alive(n, true);
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    if (!alive[c.left] || next[c.left] < 0) continue;
    const Merge* m = find_merge(id[c.left], id[next[c.left]]);
    if (m == nullptr || m->rank != c.rank) continue;  // stale: a neighbour changed
    // Merge `left` with its right neighbour `r`, which leaves the list.
    int r = next[c.left];
    id[c.left] = m->result;
    alive[r] = false;
    next[c.left] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.left;
    push(prev[c.left]);
    push(c.left);
  }
  std::vector<int32_t> out;
  for (int i = 0; i >= 0; i = next[i]) out.push_back(id[i]);
  return out;
}

void Tokenizer::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.size() == 1) {
    out.push_back(byte_id_[static_cast<unsigned char>(word[0])]);
    return;
  }
  if (parts_.ignore_merges) {
    auto it = id_of_bytes_.find(std::string(word));
    if (it != id_of_bytes_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (word.size() > WordCache::kMaxWordBytes) {
    std::vector<int32_t> ids = apply_merges(word);
    out.insert(out.end(), ids.begin(), ids.end());
    return;
  }
  std::string key(word);
  WordCache::Shard& shard = cache_->shard_of(key);
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.words.find(key);
    if (it != shard.words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids = apply_merges(word);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.words.size() >= WordCache::kMaxEntriesPerShard) shard.words.clear();
  shard.words.emplace(std::move(key), std::move(ids));
}

void Tokenizer::encode_ordinary(std::string_view text, std::vector<int32_t>& out) const {
  pre_tokenizer_.split(text, [&](std::string_view word) { encode_word(word, out); });
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3);
  encode_ordinary(text, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode_with_special(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3);
  // next_at[s]: where special s next occurs at or after `pos` (npos: never again). Each is
  // searched again only once the scan has passed it, so the whole text is scanned once per special.
  const std::vector<int32_t>& specials = parts_.special_ids;
  std::vector<size_t> next_at(specials.size());
  for (size_t s = 0; s < specials.size(); ++s) next_at[s] = text.find(parts_.tokens[specials[s]]);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t best_at = std::string_view::npos;
    int32_t best_id = -1;
    for (size_t s = 0; s < specials.size(); ++s) {
      const std::string& special = parts_.tokens[specials[s]];
      if (next_at[s] != std::string_view::npos && next_at[s] < pos) next_at[s] = text.find(special, pos);
      if (next_at[s] == std::string_view::npos) continue;
      bool better = next_at[s] < best_at ||
                    (next_at[s] == best_at && special.size() > parts_.tokens[best_id].size());
      if (better) best_at = next_at[s], best_id = specials[s];
    }
    if (best_id < 0) break;
    encode_ordinary(text.substr(pos, best_at - pos), out);
    out.push_back(best_id);
    pos = best_at + parts_.tokens[best_id].size();
  }
  if (pos < text.size()) encode_ordinary(text.substr(pos), out);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (is_valid_id(id)) out += parts_.tokens[id];
  }
  return out;
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  return is_valid_id(id) ? std::string_view(parts_.tokens[id]) : std::string_view();
}

std::optional<int32_t> Tokenizer::id_of(std::string_view token) const {
  std::string key(token);
  if (auto it = id_of_special_.find(key); it != id_of_special_.end()) return it->second;
  if (auto it = id_of_bytes_.find(key); it != id_of_bytes_.end()) return it->second;
  return std::nullopt;
}

}  // namespace mone::train

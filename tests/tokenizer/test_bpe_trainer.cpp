// BPE training: hand-computed merges, the tie rule, agreement with a naive trainer, and encoding.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "tests/tokenizer/tokenizer_test_util.h"
#include "train/tokenizer/bpe_trainer.h"
#include "train/tokenizer/text_inputs.h"

using namespace mone;
using namespace mone::train;

using Merges = std::vector<std::pair<int32_t, int32_t>>;
using Ids = std::vector<int32_t>;

namespace {

BpeTrainOptions every_pair() {
  BpeTrainOptions options;
  options.min_pair_count = 1;
  return options;
}

// `ids` with each (left, right) occurrence, left to right and not overlapping, replaced by `joined`.
Ids replace_pair(const Ids& ids, std::pair<int32_t, int32_t> pair, int32_t joined) {
  Ids out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i + 1 < ids.size() && ids[i] == pair.first && ids[i + 1] == pair.second) {
      out.push_back(joined);
      ++i;
    } else {
      out.push_back(ids[i]);
    }
  }
  return out;
}

// The textbook trainer: recount every pair of every word before each merge. Same tie rule
// (highest count, then lowest (left, right)) and same reuse of an existing token's id.
Merges naive_train(const std::vector<std::string>& texts, int merges_wanted) {
  PreTokenizer pre = value_or_die(PreTokenizer::create());
  std::map<std::string, int64_t> word_count;
  for (const std::string& t : texts) {
    for (std::string_view w : pre.split(t)) ++word_count[std::string(w)];
  }
  std::vector<std::pair<Ids, int64_t>> words;
  for (const auto& [w, c] : word_count) words.push_back({Ids(w.begin(), w.end()), c});
  for (auto& [ids, c] : words) {
    for (int32_t& id : ids) id = static_cast<unsigned char>(id);
  }
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  Merges merges;
  while (static_cast<int>(tokens.size()) - 256 < merges_wanted) {
    std::map<std::pair<int32_t, int32_t>, int64_t> count;
    for (const auto& [ids, c] : words) {
      for (size_t i = 0; i + 1 < ids.size(); ++i) count[{ids[i], ids[i + 1]}] += c;
    }
    std::pair<int32_t, int32_t> best{-1, -1};
    int64_t best_count = 0;
    for (const auto& [pair, c] : count) {  // map order = ascending ids, so '>' keeps the lowest
      if (c > best_count) best = pair, best_count = c;
    }
    if (best_count == 0) break;
    std::string joined = tokens[best.first] + tokens[best.second];
    auto found = std::find(tokens.begin(), tokens.end(), joined);
    int32_t id = static_cast<int32_t>(found - tokens.begin());
    if (found == tokens.end()) tokens.push_back(joined);
    merges.push_back(best);
    for (auto& [ids, c] : words) ids = replace_pair(ids, best, id);
  }
  return merges;
}

// GPT-2's encoder.py bpe(): merge the lowest-rank bigram everywhere (left to right), repeat.
Ids naive_encode_word(const Tokenizer& t, std::string_view word) {
  std::map<std::pair<int32_t, int32_t>, size_t> rank;
  for (size_t r = 0; r < t.merges().size(); ++r) rank[t.merges()[r]] = r;  // later duplicates win
  Ids ids;
  for (unsigned char c : word) ids.push_back(*t.id_of(std::string(1, static_cast<char>(c))));
  while (ids.size() > 1) {
    size_t best_rank = SIZE_MAX;
    std::pair<int32_t, int32_t> best;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      auto it = rank.find({ids[i], ids[i + 1]});
      if (it != rank.end() && it->second < best_rank) best_rank = it->second, best = it->first;
    }
    if (best_rank == SIZE_MAX) break;
    int32_t joined = *t.id_of(std::string(t.token_bytes(best.first)) + std::string(t.token_bytes(best.second)));
    ids = replace_pair(ids, best, joined);
  }
  return ids;
}

// A small English text with repeated words, for training in tests.
std::string sample_text() {
  std::string text;
  const char* lines[] = {
      "The cat sat on the mat. The cat ate the rat; the rat was fat.\n",
      "It's the dog's bone, and they'll say the bone isn't the dog's at all!\n",
      "In 2024, 1234 cats and 56 dogs met 7 times in the theatre, then rested.\n",
      "Über café naïve résumé: 日本語 text, emoji 🙂🙂, tabs\tand  double  spaces.\n"};
  for (int rep = 0; rep < 20; ++rep) {
    for (const char* line : lines) text += line;
  }
  return text;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("train: hand-computed merges on aaabdaaabac") {
  // Word "aaabdaaabac" (one letter run). Pair counts: aa 4 (overlapping), ab 2, bd da ba ac 1.
  //   merge 0: (a,a) -> 256 "aa"    word: aa a b d aa a b a c
  //   counts: (aa,a) 2, (a,b) 2 -> tie: lowest ids (97,98) beats (256,97)
  //   merge 1: (a,b) -> 257 "ab"    word: aa ab d aa ab a c
  //   merge 2: (aa,ab) -> 258 "aaab" (count 2)
  Tokenizer t = value_or_die(train_bpe({"aaabdaaabac"}, 260, every_pair()));
  CHECK(t.merges() == Merges{{'a', 'a'}, {'a', 'b'}, {256, 257}});
  CHECK(t.vocab_size() == 260);
  CHECK(t.eot_id() == 259);
  CHECK(t.token_bytes(258) == "aaab");
  CHECK(t.token_bytes(259) == "<|endoftext|>");
  CHECK(t.is_special(259));
  CHECK(t.encode("aaabdaaabac") == Ids{258, 'd', 258, 'a', 'c'});
  // Rank order, not left-to-right greed: in "aab" (a,a) has rank 0 and goes first.
  CHECK(t.encode("aab") == Ids{256, 'b'});
  CHECK(t.encode("aaab aab") == Ids{258, ' ', 256, 'b'});
}

TEST_CASE("train: ties go to the lowest (left id, right id)") {
  // Words "ba" and " ab" (each once): pairs (b,a) (32,a) (a,b) all count 1 -> (32,97) first;
  // then (98,97) "ba" beats (256,98) " ab" since 98 < 256.
  Tokenizer t = value_or_die(train_bpe({"ba ab"}, 260, every_pair()));
  CHECK(t.merges() == Merges{{' ', 'a'}, {'b', 'a'}, {256, 'b'}});
  CHECK(t.encode("ba ab") == Ids{257, 258});
}

TEST_CASE("train: word counts weight pairs and min_pair_count stops early") {
  // Words: "xy" x1, " xy" x2, " zw" x1. (x,y) 3 -> 256; (32,256) 2 -> 257; the rest occur once.
  Tokenizer t = value_or_die(train_bpe({"xy xy xy zw"}, 300));  // default min_pair_count 2
  CHECK(t.merges() == Merges{{'x', 'y'}, {' ', 256}});
  CHECK(t.vocab_size() == 259);  // smaller than asked: the corpus ran out of frequent pairs
  CHECK(t.eot_id() == 258);
  // Each text is its own document: pairs never span two texts.
  Tokenizer split = value_or_die(train_bpe({"x", "y", "x", "y"}, 300, every_pair()));
  CHECK(split.merges().empty());
}

TEST_CASE("train: overlapping pairs are counted and merged left to right") {
  // "aaaa": (a,a) occurs 3 times, merges into aa aa, then (aa,aa) once.
  Tokenizer t = value_or_die(train_bpe({"aaaa"}, 300, every_pair()));
  CHECK(t.merges() == Merges{{'a', 'a'}, {256, 256}});
  CHECK(t.encode("aaaaaaa") == Ids{257, 256, 'a'});
}

TEST_CASE("train: <|endoftext|> in the corpus separates documents") {
  Tokenizer t = value_or_die(train_bpe({"ab<|endoftext|>ab<|endoftext|>ab"}, 300));
  CHECK(t.merges() == Merges{{'a', 'b'}});  // "<|", "|>" etc. never counted
}

TEST_CASE("train: agrees with a naive full-recount trainer") {
  // A small alphabet makes many ties, which is where an incremental trainer goes wrong.
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  for (int d = 0; d < 40; ++d) {
    std::string text;
    for (int i = 0; i < 300; ++i) {
      uint32_t r = rng() % 10;
      text.push_back(r < 6 ? "abcab"[rng() % 5] : r < 9 ? ' ' : '\n');
    }
    texts.push_back(text);
  }
  texts.push_back(sample_text());
  const int merges = 200;
  Tokenizer t = value_or_die(train_bpe(texts, 257 + merges, every_pair()));
  Merges expected = naive_train(texts, merges);
  REQUIRE(t.merges().size() == expected.size());
  CHECK(t.merges() == expected);
}

TEST_CASE("encode: matches GPT-2's reference bpe() word by word") {
  Tokenizer t = value_or_die(train_bpe({sample_text()}, 400, every_pair()));
  PreTokenizer pre = value_or_die(PreTokenizer::create());
  std::mt19937 rng(99);
  for (int i = 0; i < 200; ++i) {
    std::string text = i % 2 ? testing::random_text(rng, 80) : sample_text().substr(rng() % 1000, 80);
    Ids expected;
    for (std::string_view w : pre.split(text)) {
      Ids ids = naive_encode_word(t, w);
      expected.insert(expected.end(), ids.begin(), ids.end());
    }
    REQUIRE(t.encode(text) == expected);
  }
  // Words the text repeats are single tokens after training.
  for (const char* word : {" the", " cat", "The", " rat"}) {
    CHECK(t.encode(word) == Ids{*t.id_of(word)});
  }
}

TEST_CASE("round trip: decode(encode(x)) == x for any bytes") {
  Tokenizer t = value_or_die(train_bpe({sample_text()}, 350));
  std::mt19937 rng(2024);
  for (int i = 0; i < 500; ++i) {
    std::string text = testing::random_text(rng, 300);
    Ids ids = t.encode(text);
    for (int32_t id : ids) REQUIRE((id >= 0 && id < t.eot_id()));  // never a special id
    REQUIRE(t.decode(ids) == text);
    REQUIRE(t.encode(t.decode(ids)) == ids);
  }
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  CHECK(t.decode(t.encode(all)) == all);
  CHECK(t.encode("").empty());
  CHECK(t.decode(Ids{}).empty());
  CHECK(t.decode(Ids{'a', -1, t.vocab_size(), 'b'}) == "ab");  // invalid ids decode to nothing
}

TEST_CASE("encode: threads sharing one tokenizer (and its word cache) agree with one thread") {
  Tokenizer shared = value_or_die(train_bpe({sample_text()}, 350));
  Tokenizer reference = value_or_die(train_bpe({sample_text()}, 350));  // same tables, own cache
  std::mt19937 rng(11);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back(testing::random_text(rng, 400) + sample_text().substr(i * 10, 200));
  std::vector<Ids> expected;
  for (const std::string& text : texts) expected.push_back(reference.encode(text));
  const int kThreads = 4;
  std::vector<std::vector<Ids>> got(kThreads, std::vector<Ids>(texts.size()));
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&, k] {
      for (size_t n = 0; n < texts.size(); ++n) {
        size_t i = (n + 16 * k) % texts.size();  // each thread starts elsewhere
        got[k][i] = shared.encode(texts[i]);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int k = 0; k < kThreads; ++k) CHECK(got[k] == expected);
}

TEST_CASE("encode_with_special: <|endoftext|> only when asked") {
  Tokenizer t = value_or_die(train_bpe({sample_text()}, 300));
  const int32_t eot = t.eot_id();
  CHECK(t.id_of("<|endoftext|>") == std::optional<int32_t>(eot));
  Ids plain = t.encode("a<|endoftext|>b");
  CHECK(std::find(plain.begin(), plain.end(), eot) == plain.end());
  CHECK(t.decode(plain) == "a<|endoftext|>b");
  CHECK(t.encode_with_special("a<|endoftext|>b") == Ids{'a', eot, 'b'});
  CHECK(t.encode_with_special("<|endoftext|><|endoftext|>") == Ids{eot, eot});
  CHECK(t.encode_with_special("<|endoftext|") == t.encode("<|endoftext|"));
  Ids mixed = t.encode_with_special("The cat<|endoftext|> sat<|endoftext|>");
  CHECK(t.decode(mixed) == "The cat<|endoftext|> sat<|endoftext|>");
  CHECK(std::count(mixed.begin(), mixed.end(), eot) == 2);
}

TEST_CASE("train: bad arguments") {
  StatusOr<Tokenizer> small = train_bpe({"abc"}, 256);
  REQUIRE_FALSE(small.ok());
  CHECK(small.status().message().find("vocab_size 256 is too small") != std::string::npos);
  CHECK(value_or_die(train_bpe({"abc"}, 257)).vocab_size() == 257);  // bytes + <|endoftext|>
  BpeTrainOptions zero;
  zero.min_pair_count = 0;
  CHECK_FALSE(train_bpe({"abc"}, 300, zero).ok());
  BpeTrainOptions bad_regex;
  bad_regex.split_pattern = "[";
  CHECK_FALSE(train_bpe({"abc"}, 300, bad_regex).ok());
}

TEST_CASE("train: /usr/share/common-licenses to 512 tokens, exact round trip") {
  const std::string dir = "/usr/share/common-licenses";
  if (!std::filesystem::is_directory(dir)) {
    MESSAGE("skipped: " << dir << " not present");
    return;
  }
  std::vector<std::string> texts = value_or_die(read_text_inputs({dir}));
  REQUIRE(texts.size() >= 5);
  int64_t progress_calls = 0;
  BpeTrainOptions options;
  options.progress = [&](int64_t done, int64_t total) {
    ++progress_calls;
    CHECK(total == 512 - 257);
  };
  Tokenizer t = value_or_die(train_bpe(texts, 512, options));
  CHECK(t.vocab_size() == 512);
  CHECK(t.eot_id() == 511);
  CHECK(progress_calls >= 255);
  CHECK(t.id_of(" the").has_value());
  CHECK(t.id_of(" License").has_value());
  size_t bytes = 0, tokens = 0;
  for (const std::string& text : texts) {
    Ids ids = t.encode(text);
    REQUIRE(t.decode(ids) == text);
    bytes += text.size();
    tokens += ids.size();
  }
  // 255 merges on English legal text compress well beyond one token per byte.
  CHECK(static_cast<double>(bytes) / tokens > 2.0);
}

}  // TEST_SUITE

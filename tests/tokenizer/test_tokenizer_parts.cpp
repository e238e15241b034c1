// Tokenizer::create from parts: merge order on hand-made tables, and what create rejects.
#include <doctest/doctest.h>

#include "train/tokenizer/tokenizer.h"

using namespace mone;
using namespace mone::train;
using Ids = std::vector<int32_t>;

namespace {

// The 256 byte tokens (id = byte), then `extra` tokens from id 256.
TokenizerParts byte_parts(std::vector<std::string> extra = {}) {
  TokenizerParts parts;
  for (int b = 0; b < 256; ++b) parts.tokens.emplace_back(1, static_cast<char>(b));
  for (std::string& t : extra) parts.tokens.push_back(std::move(t));
  return parts;
}

std::string error_of(TokenizerParts parts) {
  StatusOr<Tokenizer> t = Tokenizer::create(std::move(parts));
  REQUIRE_FALSE(t.ok());
  return std::string(t.status().message());
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("encode: merges apply strictly by rank, even after a neighbour changed") {
  // Ranks: 0 (b,c) 1 (a,b) 2 (bc,d) 3 (a,bc). "abcd": rank 0 gives a|bc|d; the pending (a,b)
  // is gone, and of (a,bc) rank 3 and (bc,d) rank 2 the latter wins: a|bcd. Merging the pair
  // that now sits where (a,b) was, out of turn, would give abc|d instead.
  TokenizerParts parts = byte_parts({"bc", "ab", "bcd", "abc"});
  parts.merges = {{'b', 'c'}, {'a', 'b'}, {256, 'd'}, {'a', 256}};
  Tokenizer t = value_or_die(Tokenizer::create(parts));
  CHECK(t.encode("abcd") == Ids{'a', 258});
  CHECK(t.encode("abc") == Ids{259});
  CHECK(t.encode("ab") == Ids{257});
  CHECK_FALSE(t.has_eot());
  CHECK(t.eot_id() == -1);
}

TEST_CASE("encode: ignore_merges emits a word that is a token whole") {
  TokenizerParts parts = byte_parts({"ab", "abc"});
  parts.merges = {{'a', 'b'}};  // "abc" has no merge path
  CHECK(value_or_die(Tokenizer::create(parts)).encode("abc") == Ids{256, 'c'});
  parts.ignore_merges = true;
  CHECK(value_or_die(Tokenizer::create(parts)).encode("abc") == Ids{257});
}

TEST_CASE("encode_with_special: leftmost, then longest special") {
  TokenizerParts parts = byte_parts({"<a>", "<a><b>"});
  parts.special_ids = {256, 257};
  Tokenizer t = value_or_die(Tokenizer::create(parts));
  CHECK(t.encode_with_special("x<a><b><a>y") == Ids{'x', 257, 256, 'y'});
  CHECK(t.id_of("<a>") == std::optional<int32_t>(256));
  CHECK(t.id_of("x") == std::optional<int32_t>('x'));
  CHECK_FALSE(t.id_of("xy").has_value());
  CHECK(t.token_bytes(257) == "<a><b>");
  CHECK(t.token_bytes(999).empty());
}

TEST_CASE("create: rejects inconsistent tables with a message that says why") {
  TokenizerParts missing_byte = byte_parts();
  missing_byte.tokens[0x41] = "AA";
  CHECK(error_of(missing_byte).find("byte 0x41 (spelled 'A') has no token") != std::string::npos);

  TokenizerParts duplicate = byte_parts({"a"});
  CHECK(error_of(duplicate).find("tokens 97 and 256 are both 'a'") != std::string::npos);

  TokenizerParts empty = byte_parts({""});
  CHECK(error_of(empty).find("token 256 is empty") != std::string::npos);

  TokenizerParts special_range = byte_parts();
  special_range.special_ids = {300};
  CHECK(error_of(special_range).find("special token id 300 is outside") != std::string::npos);

  TokenizerParts special_twice = byte_parts({"<s>"});
  special_twice.special_ids = {256, 256};
  CHECK(error_of(special_twice).find("listed twice") != std::string::npos);

  TokenizerParts merge_range = byte_parts();
  merge_range.merges = {{'a', 999}};
  CHECK(error_of(merge_range).find("merge 0: token id 999 is outside") != std::string::npos);

  TokenizerParts merge_special = byte_parts({"<s>", "a<s>"});
  merge_special.special_ids = {256};
  merge_special.merges = {{'a', 256}};
  CHECK(error_of(merge_special).find("cannot be merged") != std::string::npos);

  TokenizerParts no_result = byte_parts();
  no_result.merges = {{'a', 'b'}};
  CHECK(error_of(no_result).find("merge 0 ('a' + 'b'): the merged token 'ab' is not in the vocabulary") !=
        std::string::npos);

  TokenizerParts bad_regex = byte_parts();
  bad_regex.split_pattern = "(";
  CHECK(error_of(bad_regex).find("does not compile") != std::string::npos);
}

}  // TEST_SUITE

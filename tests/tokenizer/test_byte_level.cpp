// The byte <-> unicode spelling and the pre-tokenizer's splits.
#include <doctest/doctest.h>

#include <set>

#include "tests/tokenizer/tokenizer_test_util.h"
#include "train/tokenizer/byte_level.h"
#include "train/tokenizer/pretokenizer.h"

using namespace mone;
using namespace mone::train;

using Pieces = std::vector<std::string_view>;

TEST_SUITE("unit") {

TEST_CASE("byte-level map: GPT-2's code points, a bijection") {
  // Printable bytes keep their code point; the 68 others are U+0100.. in byte order.
  CHECK(byte_to_code_point('a') == U'a');
  CHECK(byte_to_code_point('!') == U'!');
  CHECK(byte_to_code_point(0xE9) == U'\u00E9');  // 'é' is printable Latin-1
  CHECK(byte_to_code_point(0x00) == U'\u0100');
  CHECK(byte_to_code_point('\n') == U'\u010A');  // 'Ċ'
  CHECK(byte_to_code_point(' ') == U'\u0120');   // 'Ġ'
  CHECK(byte_to_code_point(0xAD) == U'\u0143');  // the last one: 256 + 67
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) seen.insert(byte_to_code_point(static_cast<unsigned char>(b)));
  CHECK(seen.size() == 256);

  CHECK(bytes_to_byte_level(" the\n") == "Ġthe\xC4\x8A");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  CHECK(byte_level_to_bytes(bytes_to_byte_level(all)) == all);
}

TEST_CASE("byte-level map: spellings outside the alphabet are rejected") {
  CHECK(byte_level_to_bytes("Ġthe") == std::optional<std::string>(" the"));
  CHECK_FALSE(byte_level_to_bytes("日").has_value());  // a code point outside the map
  CHECK_FALSE(byte_level_to_bytes(" ").has_value());   // space is spelled 'Ġ', never ' '
  CHECK_FALSE(byte_level_to_bytes("\xC4").has_value());      // truncated UTF-8
  CHECK_FALSE(byte_level_to_bytes("\xC1\xA1").has_value());  // overlong 'a'
  CHECK(byte_level_to_bytes("") == std::optional<std::string>(""));
}

TEST_CASE("GPT-2 split: contractions, letters, digits, punctuation, whitespace") {
  PreTokenizer pre = value_or_die(PreTokenizer::create());
  CHECK(pre.split("Hello world's 123 !!\n\n  x") ==
        Pieces{"Hello", " world", "'s", " 123", " !!", "\n\n ", " x"});
  CHECK(pre.split("I'm here  ") == Pieces{"I", "'m", " here", "  "});
  CHECK(pre.split("héllo wörld 日本語") == Pieces{"héllo", " wörld", " 日本語"});
  // Unicode whitespace (UCP): a no-break space is \s, so it stands alone before a letter.
  CHECK(pre.split("a\u00A0b") == Pieces{"a", "\u00A0", "b"});
  CHECK(pre.split("").empty());
}

TEST_CASE("split: invalid UTF-8 and NULs stay in pieces that concatenate to the input") {
  PreTokenizer pre = value_or_die(PreTokenizer::create());
  CHECK(pre.split("ab\xFF" "cd") == Pieces{"ab", "\xFF", "cd"});
  CHECK(pre.split(std::string_view("a\0b", 3)) == Pieces{"a", std::string_view("\0", 1), "b"});
  std::mt19937 rng(1234);
  for (int i = 0; i < 300; ++i) {
    std::string text = testing::random_text(rng, 200);
    std::string joined;
    for (std::string_view piece : pre.split(text)) {
      CHECK_FALSE(piece.empty());
      joined += piece;
    }
    REQUIRE(joined == text);
  }
  // Very long runs (no stack overflow, still exact).
  std::string spaces(300000, ' ');
  spaces += "x";
  CHECK(pre.split(spaces) == Pieces{std::string_view(spaces).substr(0, 299999), " x"});
  std::string junk(100000, '\xFF');
  CHECK(pre.split(junk) == Pieces{junk});
}

TEST_CASE("split: a custom regex, and a bad one") {
  PreTokenizer digits = value_or_die(PreTokenizer::create(R"(\p{N}{1,3}|\D+)"));
  CHECK(digits.split("12345ab6") == Pieces{"123", "45", "ab", "6"});
  StatusOr<PreTokenizer> bad = PreTokenizer::create("(unclosed");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("does not compile") != std::string::npos);
  CHECK(bad.status().message().find("(unclosed") != std::string::npos);
}

}  // TEST_SUITE

// Helpers shared by the tokenizer tests: a temporary directory, file writing, and random text.
#pragma once

#include "tests/temp_dir.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace mone::train::testing {

// A fresh directory under /tmp, removed with everything in it when the object goes away.
using TempDir = mone_testing::TempDir;

inline void write_file(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Random byte strings that hit the hard cases: words, spaces and newlines, multi-byte UTF-8,
// invalid UTF-8 (lone continuation bytes, truncated sequences, 0xFF) and NULs.
inline std::string random_text(std::mt19937& rng, size_t max_len) {
  using namespace std::string_view_literals;
  static constexpr std::string_view kPieces[] = {"the"sv, " the"sv, "cat"sv, " "sv, "  "sv, "\n"sv,
                                                 "\n\n"sv, "'s"sv, "'ll"sv, "123"sv, "!?"sv, "é"sv,
                                                 "日本"sv, "🙂"sv, "\x80"sv, "\xC3"sv, "\xE6\x97"sv,
                                                 "\xFF"sv, "\0"sv};
  const size_t len = rng() % (max_len + 1);
  std::string s;
  while (s.size() < len) {
    switch (rng() % 3) {
      case 0: s.push_back(static_cast<char>(rng() % 256)); break;  // any byte
      case 1: s += kPieces[rng() % std::size(kPieces)]; break;
      default: s.push_back(static_cast<char>('a' + rng() % 26));
    }
  }
  return s;
}

}  // namespace mone::train::testing

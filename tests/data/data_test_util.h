// Helpers shared by the data tests: a self-cleaning temp directory and raw file writers, so
// bad shards can be made byte by byte.
#pragma once

#include "tests/temp_dir.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/status.h"

namespace mone::train::testing {

// mkdtemp(3) under $TMPDIR (or /tmp), removed with everything in it at scope exit.
using TempDir = mone_testing::TempDir;

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The bytes of an llm.c shard with the given header fields and tokens of the given width, built by
// hand (the way numpy's tofile lays them out), independent of write_shard.
inline std::vector<unsigned char> raw_shard(int32_t magic, int32_t version, int32_t count,
                                            const std::vector<uint32_t>& tokens, int token_bytes) {
  std::vector<unsigned char> bytes(1024, 0);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int b = 0; b < 4; ++b) bytes[at + b] = static_cast<unsigned char>(v >> (8 * b));
  };
  put32(0, static_cast<uint32_t>(magic));
  put32(4, static_cast<uint32_t>(version));
  put32(8, static_cast<uint32_t>(count));
  for (uint32_t t : tokens) {
    for (int b = 0; b < token_bytes; ++b) bytes.push_back(static_cast<unsigned char>(t >> (8 * b)));
  }
  return bytes;
}

// Little-endian int32 at byte offset `at`.
inline int32_t int32_at(const std::vector<unsigned char>& bytes, size_t at) {
  uint32_t v = 0;
  for (int b = 0; b < 4; ++b) v |= static_cast<uint32_t>(bytes[at + b]) << (8 * b);
  return static_cast<int32_t>(v);
}

// True when the status is an error whose message contains every one of `parts`.
inline bool error_mentions(const absl::Status& status, std::initializer_list<std::string> parts) {
  if (status.ok()) return false;
  const std::string message(status.message());
  for (const std::string& part : parts) {
    if (message.find(part) == std::string::npos) {
      MESSAGE("message \"" << message << "\" lacks \"" << part << "\"");
      return false;
    }
  }
  return true;
}

}  // namespace mone::train::testing

// llm.c shards: exact bytes on disk, both token widths, and every way a file can be bad.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>

#include "tests/data/data_test_util.h"
#include "train/data/shard.h"

using namespace mone;
using namespace mone::train;
using namespace mone::train::testing;

namespace {

std::vector<int32_t> copy_all(const TokenShard& shard) {
  std::vector<int32_t> out(static_cast<size_t>(shard.size()));
  shard.copy(0, shard.size(), out.data());
  return out;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("gpt-2 shards: uint16 tokens with exact header bytes round trip") {
  TempDir dir;
  const std::string path = dir.file("tiny_train.bin");
  // GPT-2's EOT (50256) opens each document, as llm.c writes them.
  const std::vector<uint32_t> tokens = {50256, 15496, 995, 0, 50256, 40, 1, 50255};
  REQUIRE(write_shard(path, tokens, 50257).ok());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  const auto bytes = read_bytes(path);
  REQUIRE(bytes.size() == 1024 + 2 * tokens.size());
  CHECK(int32_at(bytes, 0) == 20240520);
  CHECK(int32_at(bytes, 4) == 1);
  CHECK(int32_at(bytes, 8) == static_cast<int32_t>(tokens.size()));
  for (size_t at = 12; at < 1024; ++at) CHECK(bytes[at] == 0);
  // Little-endian uint16 after the header: 50256 = 0xC450.
  CHECK(bytes[1024] == 0x50);
  CHECK(bytes[1025] == 0xC4);

  auto shard = TokenShard::open(path);
  REQUIRE(shard.ok());
  CHECK(shard->format().magic == kGpt2ShardFormat.magic);
  CHECK(shard->format().token_bytes == 2);
  CHECK(shard->path() == path);
  REQUIRE(shard->size() == static_cast<int64_t>(tokens.size()));
  for (size_t i = 0; i < tokens.size(); ++i) CHECK(shard->token(static_cast<int64_t>(i)) == tokens[i]);
  CHECK(copy_all(*shard) == std::vector<int32_t>(tokens.begin(), tokens.end()));
  std::vector<int32_t> middle(3);
  shard->copy(2, 3, middle.data());
  CHECK(middle == std::vector<int32_t>{995, 0, 50256});
  CHECK(shard->check_max_token(50257).ok());
}

TEST_CASE("llama-3 shards: uint32 tokens once the vocabulary passes 65536") {
  TempDir dir;
  const std::string path = dir.file("big_vocab.bin");
  const std::vector<uint32_t> tokens = {128000, 9906, 70000, 65536, 128255};
  REQUIRE(write_shard(path, tokens, 128256).ok());

  const auto bytes = read_bytes(path);
  REQUIRE(bytes.size() == 1024 + 4 * tokens.size());
  CHECK(int32_at(bytes, 0) == 20240801);
  CHECK(int32_at(bytes, 4) == 7);
  CHECK(int32_at(bytes, 8) == 5);
  CHECK(int32_at(bytes, 1024) == 128000);
  CHECK(int32_at(bytes, 1024 + 4 * 4) == 128255);

  auto shard = TokenShard::open(path);
  REQUIRE(shard.ok());
  CHECK(shard->format().magic == kLlama3ShardFormat.magic);
  CHECK(shard->format().token_bytes == 4);
  CHECK(copy_all(*shard) == std::vector<int32_t>(tokens.begin(), tokens.end()));
}

TEST_CASE("the format switches exactly at 65536 ids") {
  CHECK(shard_format_for_vocab(256).token_bytes == 2);
  CHECK(shard_format_for_vocab(65536).token_bytes == 2);  // ids 0..65535 fit in uint16
  CHECK(shard_format_for_vocab(65537).token_bytes == 4);
  TempDir dir;
  REQUIRE(write_shard(dir.file("a.bin"), std::vector<uint32_t>{65535, 0}, 65536).ok());
  CHECK(read_bytes(dir.file("a.bin")).size() == 1024 + 4);
  auto shard = TokenShard::open(dir.file("a.bin"));
  REQUIRE(shard.ok());
  CHECK(shard->token(0) == 65535u);
}

TEST_CASE("a shard laid out by hand as llm.c's python writes it opens") {
  TempDir dir;
  write_bytes(dir.file("py.bin"), raw_shard(20240520, 1, 3, {50256, 7, 8}, 2));
  auto shard = TokenShard::open(dir.file("py.bin"));
  REQUIRE(shard.ok());
  CHECK(copy_all(*shard) == std::vector<int32_t>{50256, 7, 8});
  write_bytes(dir.file("py32.bin"), raw_shard(20240801, 7, 2, {128000, 3}, 4));
  auto shard32 = TokenShard::open(dir.file("py32.bin"));
  REQUIRE(shard32.ok());
  CHECK(copy_all(*shard32) == std::vector<int32_t>{128000, 3});
}

TEST_CASE("write_shard replaces an existing file whole and moves cleanly") {
  TempDir dir;
  const std::string path = dir.file("s.bin");
  REQUIRE(write_shard(path, std::vector<uint32_t>{1, 2, 3, 4}, 10).ok());
  REQUIRE(write_shard(path, std::vector<uint32_t>{9, 8}, 10).ok());
  auto shard = TokenShard::open(path);
  REQUIRE(shard.ok());
  CHECK(copy_all(*shard) == std::vector<int32_t>{9, 8});

  TokenShard moved = std::move(shard).value();  // move construction keeps the mapping alive
  CHECK(moved.size() == 2);
  CHECK(moved.token(1) == 8u);
  auto other = TokenShard::open(path);
  REQUIRE(other.ok());
  moved = std::move(other).value();  // move assignment unmaps the old one
  CHECK(moved.token(0) == 9u);
}

TEST_CASE("write_shard errors name the path and write nothing") {
  TempDir dir;
  const std::string path = dir.file("bad.bin");
  CHECK(error_mentions(write_shard(path, std::vector<uint32_t>{1, 2, 10, 3}, 10),
                       {path, "token 10", "position 2", "vocab_size 10"}));
  CHECK(error_mentions(write_shard(path, std::vector<uint32_t>{}, 10), {path, "no tokens"}));
  CHECK(error_mentions(write_shard(path, std::vector<uint32_t>{1}, 0), {path, "vocab_size 0"}));
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  const std::string nowhere = dir.file("no_such_dir/x.bin");
  CHECK(error_mentions(write_shard(nowhere, std::vector<uint32_t>{1}, 10), {nowhere + ".tmp"}));
  write_bytes(dir.file("plain"), {1});  // a "directory" that is really a file
  CHECK(error_mentions(write_shard(dir.file("plain/x.bin"), std::vector<uint32_t>{1}, 10), {dir.file("plain/x.bin")}));
}

TEST_CASE("a write that fails midway leaves the old shard and no temporary file") {
  TempDir dir;
  const std::string path = dir.file("s.bin");
  REQUIRE(write_shard(path, std::vector<uint32_t>{7, 8, 9}, 10).ok());
  // Stand-in for a full disk: a 2000-byte file size limit makes write(2) fail with EFBIG once the
  // header and some tokens are out (SIGXFSZ ignored so the failure comes back as an errno).
  struct rlimit old_limit;
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 2000;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  const std::vector<uint32_t> many(4000, 1);  // 1024 + 2·4000 bytes
  const Status status = write_shard(path, many, 10);
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);

  CHECK(error_mentions(status, {path + ".tmp", "writing token shard"}));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  auto shard = TokenShard::open(path);
  REQUIRE(shard.ok());
  CHECK(copy_all(*shard) == std::vector<int32_t>{7, 8, 9});
}

TEST_CASE("every bad shard file is an error naming the file") {
  TempDir dir;
  const std::string missing = dir.file("missing.bin");
  CHECK(error_mentions(TokenShard::open(missing).status(), {missing, "No such file"}));
  CHECK(TokenShard::open(missing).status().code() == absl::StatusCode::kNotFound);

  const std::string empty = dir.file("empty.bin");
  write_bytes(empty, {});
  CHECK(error_mentions(TokenShard::open(empty).status(), {empty, "empty"}));

  const std::string small = dir.file("small.bin");
  write_bytes(small, std::vector<unsigned char>(100, 0));
  CHECK(error_mentions(TokenShard::open(small).status(), {small, "100 bytes", "1024-byte"}));

  const std::string magic = dir.file("magic.bin");
  write_bytes(magic, raw_shard(12345, 1, 2, {1, 2}, 2));
  CHECK(error_mentions(TokenShard::open(magic).status(), {magic, "magic 12345", "20240520", "20240801"}));

  // A known magic with the other format's version is still wrong.
  const std::string version = dir.file("version.bin");
  write_bytes(version, raw_shard(20240520, 7, 2, {1, 2}, 2));
  CHECK(error_mentions(TokenShard::open(version).status(), {version, "version 7", "expected 1"}));
  const std::string version32 = dir.file("version32.bin");
  write_bytes(version32, raw_shard(20240801, 1, 2, {1, 2}, 4));
  CHECK(error_mentions(TokenShard::open(version32).status(), {version32, "version 1", "expected 7"}));

  // Header says 10 tokens, the file holds 9: a download cut short.
  const std::string truncated = dir.file("truncated.bin");
  write_bytes(truncated, raw_shard(20240520, 1, 10, {1, 2, 3, 4, 5, 6, 7, 8, 9}, 2));
  CHECK(error_mentions(TokenShard::open(truncated).status(), {truncated, "10", "1044 bytes", "1042 bytes"}));
  // And too many bytes is as wrong as too few (e.g. uint32 tokens under a uint16 header).
  const std::string wide = dir.file("wide.bin");
  write_bytes(wide, raw_shard(20240520, 1, 2, {1, 2}, 4));
  CHECK(error_mentions(TokenShard::open(wide).status(), {wide, "1028 bytes", "1032 bytes"}));

  const std::string zero = dir.file("zero.bin");
  write_bytes(zero, raw_shard(20240520, 1, 0, {}, 2));
  CHECK(error_mentions(TokenShard::open(zero).status(), {zero, "holds no tokens"}));

  const std::string negative = dir.file("negative.bin");
  write_bytes(negative, raw_shard(20240801, 7, -1, {}, 4));
  CHECK(error_mentions(TokenShard::open(negative).status(), {negative, "negative token count"}));

  CHECK(error_mentions(TokenShard::open(dir.path()).status(), {dir.path()}));  // a directory
}

TEST_CASE("check_max_token finds the first id outside the vocabulary") {
  TempDir dir;
  const std::string path = dir.file("ids.bin");
  write_bytes(path, raw_shard(20240520, 1, 6, {5, 99, 100, 3, 250, 7}, 2));
  auto shard = TokenShard::open(path);
  REQUIRE(shard.ok());
  CHECK(shard->check_max_token(251).ok());
  CHECK(error_mentions(shard->check_max_token(250), {path, "token 250", "position 4"}));
  CHECK(error_mentions(shard->check_max_token(100), {path, "token 100", "position 2", "vocab_size 100"}));
  CHECK(error_mentions(shard->check_max_token(0), {path}));

  const std::string path32 = dir.file("ids32.bin");
  write_bytes(path32, raw_shard(20240801, 7, 3, {1, 200000, 2}, 4));
  auto shard32 = TokenShard::open(path32);
  REQUIRE(shard32.ok());
  CHECK(error_mentions(shard32->check_max_token(128256), {path32, "token 200000", "position 1"}));
}

TEST_CASE("open_shards opens in order and describe_shards lists sizes") {
  TempDir dir;
  REQUIRE(write_shard(dir.file("a.bin"), std::vector<uint32_t>{1, 2, 3}, 10).ok());
  REQUIRE(write_shard(dir.file("b.bin"), std::vector<uint32_t>{4}, 10).ok());
  auto shards = open_shards({dir.file("b.bin"), dir.file("a.bin")});
  REQUIRE(shards.ok());
  REQUIRE(shards->size() == 2);
  CHECK((*shards)[0].size() == 1);
  CHECK(describe_shards(*shards) == dir.file("b.bin") + " (1 tokens), " + dir.file("a.bin") + " (3 tokens)");
  CHECK_FALSE(open_shards({}).ok());
  CHECK(error_mentions(open_shards({dir.file("a.bin"), dir.file("nope.bin")}).status(), {dir.file("nope.bin")}));
}

}  // TEST_SUITE

// The shared file writer, SHA-256 and the small JSON file helpers.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/checkpoint/temp_dir.h"
#include "core/file_io.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/sha256.h"

using namespace mone;
using namespace mone::train;
using namespace mone::train::testing;

TEST_SUITE("unit") {

TEST_CASE("sha256 matches the FIPS 180-2 test vectors, in memory and from files") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string million_a(1'000'000, 'a');
  CHECK(sha256_hex(million_a) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  TempDir tmp;
  write_bytes(tmp.file("a"), million_a);
  StatusOr<std::string> file_hash = sha256_hex_file(tmp.file("a"));
  REQUIRE(file_hash.ok());
  CHECK(*file_hash == sha256_hex(million_a));
  // Larger than one 1 MiB read chunk, not a multiple of it.
  std::string big(3'000'001, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  write_bytes(tmp.file("big"), big);
  CHECK(value_or_die(sha256_hex_file(tmp.file("big"))) == sha256_hex(big));
  StatusOr<std::string> missing = sha256_hex_file(tmp.file("missing"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find(tmp.file("missing")) != std::string::npos);
}

TEST_CASE("write_file_atomic: a failed write leaves the old file and no tmp file") {
  TempDir tmp;
  const std::string path = tmp.file("state.txt");
  REQUIRE(write_string_atomic(path, "old").ok());
  Status s = write_file_atomic(path, [](FileSink& sink) -> Status {
    MONE_RETURN_IF_ERROR(sink.write("half of the new cont"));
    return absl::DataLossError("simulated failure");
  });
  CHECK(s.message() == "simulated failure");
  CHECK(read_bytes(path) == "old");
  CHECK_FALSE(exists(path + ".tmp"));

  // A directory that does not exist: the error names the file being created.
  Status missing_dir = write_string_atomic(tmp.file("no/such/dir.txt"), "x");
  REQUIRE_FALSE(missing_dir.ok());
  CHECK(missing_dir.message().find(tmp.file("no/such/dir.txt.tmp")) != std::string::npos);
}

TEST_CASE("JSON files: round trip, and missing / empty / invalid / duplicate-key errors") {
  TempDir tmp;
  const std::string path = tmp.file("state.json");
  nlohmann::json value = {{"step", 42}, {"name", "run"}, {"lr", 0.5}, {"list", {1, 2, 3}}};
  REQUIRE(write_json_file_atomic(path, value).ok());
  CHECK_FALSE(exists(path + ".tmp"));
  CHECK(read_bytes(path).back() == '\n');
  StatusOr<nlohmann::json> back = read_json_file(path);
  REQUIRE(back.ok());
  CHECK(*back == value);

  StatusOr<nlohmann::json> missing = read_json_file(tmp.file("missing.json"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() == tmp.file("missing.json") + ": file does not exist");

  write_bytes(tmp.file("empty.json"), " \n");
  StatusOr<nlohmann::json> empty = read_json_file(tmp.file("empty.json"));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().message() == tmp.file("empty.json") + ": file is empty (expected JSON)");

  write_bytes(tmp.file("bad.json"), R"({"a": 1, "b": tru})");
  StatusOr<nlohmann::json> bad = read_json_file(tmp.file("bad.json"));
  REQUIRE_FALSE(bad.ok());
  const std::string bad_message(bad.status().message());
  CAPTURE(bad_message);
  CHECK(bad_message.rfind(tmp.file("bad.json") + ": invalid JSON at byte 18: ", 0) == 0);

  // The bytes the parser quotes are escaped: the message is printable ASCII, whatever the file
  // holds (found by fuzz_run_summary: `mone runs --json` could not print such a message).
  write_bytes(tmp.file("latin1.json"), "{\"name\": \"caf\xe9\"}");
  StatusOr<nlohmann::json> latin1 = read_json_file(tmp.file("latin1.json"));
  REQUIRE_FALSE(latin1.ok());
  const std::string latin1_message(latin1.status().message());
  CAPTURE(latin1_message);
  CHECK(latin1_message.find("ill-formed UTF-8 byte; last read: '\"caf\\xe9\"'") != std::string::npos);
  CHECK(std::all_of(latin1_message.begin(), latin1_message.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));

  write_bytes(tmp.file("dup.json"), R"({"a": {"x": 1, "x": 2}})");
  StatusOr<nlohmann::json> dup = read_json_file(tmp.file("dup.json"));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message() ==
        tmp.file("dup.json") + ": duplicate key \"x\" in the object at /a");

  // The same key in two different objects is fine.
  CHECK(parse_json_text(R"({"a": {"x": 1}, "b": {"x": 2}})", "inline").ok());
  // Deep nesting is refused instead of consuming unbounded memory.
  CHECK_FALSE(parse_json_text(std::string(1000, '[') + std::string(1000, ']'), "deep").ok());
  // Invalid UTF-8 cannot be written (nlohmann would throw; we return an error).
  Status bad_utf8 = write_json_file_atomic(tmp.file("u.json"), nlohmann::json{{"k", "\xff"}});
  CHECK_FALSE(bad_utf8.ok());
  CHECK_FALSE(exists(tmp.file("u.json")));
}

}  // TEST_SUITE

// safetensors: every malformed file gives its own error, naming the file (and the tensor).
#include <doctest/doctest.h>

#include "tests/checkpoint/temp_dir.h"
#include "train/checkpoint/safetensors.h"

using namespace mone;
using namespace mone::train;
using namespace mone::train::testing;

namespace {

struct CorruptCase {
  const char* what;
  std::string bytes;    // the whole file
  std::string message;  // a part of the expected error message
};

// An F32 entry: "name":{"dtype":"F32","shape":[...],"data_offsets":[b,e]}
std::string f32_entry(const std::string& name, const std::string& shape, int begin, int end) {
  return absl::StrCat("\"", name, "\":{\"dtype\":\"F32\",\"shape\":", shape,
                      ",\"data_offsets\":[", begin, ",", end, "]}");
}

std::string one_tensor(const std::string& entry_body, const std::string& data) {
  return safetensors_bytes(absl::StrCat("{\"t\":", entry_body, "}"), data);
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("read_safetensors: each corrupt file has its specific error naming the file") {
  const std::string four(4, '\0'), eight(8, '\0'), twelve(12, '\0');
  const std::vector<CorruptCase> cases = {
      {"shorter than 8 bytes", "abc", "3 bytes, too short for the 8-byte header length"},
      {"header above 100 MB", le64(100'000'001) + "{}      ", "exceeds the limit of 100000000"},
      {"header longer than the file", le64(64) + "{}      ", "header length 64 runs past the end"},
      {"header not UTF-8", safetensors_bytes("{\"t\xff\":1}", ""), "UTF-8"},
      {"header not JSON", safetensors_bytes(R"({"t":{"dtype":)", ""), "invalid JSON at byte"},
      {"header a list", safetensors_bytes("[1,2]", ""), "must be a JSON object starting with '{'"},
      {"header with leading blank", safetensors_bytes(" {}", ""), "starting with '{'"},
      {"entry not an object", one_tensor("1", ""), "tensor \"t\": expected an object"},
      {"missing data_offsets", one_tensor(R"({"dtype":"F32","shape":[1]})", four),
       "tensor \"t\": missing field \"data_offsets\""},
      {"unknown dtype", one_tensor(R"({"dtype":"X32","shape":[1],"data_offsets":[0,4]})", four),
       "tensor \"t\": unknown dtype \"X32\""},
      {"dtype not supported", one_tensor(R"({"dtype":"U16","shape":[2],"data_offsets":[0,4]})", four),
       "dtype U16 is not supported by mone (F32, F64, BF16, F16, I32, I64 are)"},
      {"F16 bytes counted as halves", one_tensor(R"({"dtype":"F16","shape":[2],"data_offsets":[0,8]})", eight),
       "hold 8 bytes but F16 [2] needs 4"},
      {"shape not a list", one_tensor(R"({"dtype":"F32","shape":3,"data_offsets":[0,4]})", four),
       "\"shape\" must be a list of non-negative integers, got 3"},
      {"negative dimension", one_tensor(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})", four),
       "got [-1]"},
      {"fractional dimension", one_tensor(R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})", four),
       "got [1.5]"},
      {"one offset", one_tensor(R"({"dtype":"F32","shape":[1],"data_offsets":[0]})", four),
       "\"data_offsets\" must be two non-negative integers"},
      {"offset a string", one_tensor(R"({"dtype":"F32","shape":[1],"data_offsets":[0,"4"]})", four),
       "\"data_offsets\" must be two non-negative integers"},
      {"begin after end", one_tensor(R"({"dtype":"F32","shape":[0],"data_offsets":[4,0]})", four),
       "data_offsets [4, 0] end before they begin"},
      {"wrong byte length", one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,12]})", twelve),
       "hold 12 bytes but F32 [2] needs 8"},
      {"shape overflows", one_tensor(R"({"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]})", four),
       "overflows 64-bit byte counts"},
      {"offsets past the buffer", one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})", four),
       "tensor \"t\": data_offsets [0, 8] run past the end of the 4-byte data buffer"},
      {"hole between tensors",
       safetensors_bytes("{" + f32_entry("a", "[1]", 0, 4) + "," + f32_entry("b", "[1]", 8, 12) + "}", twelve),
       "tensor \"b\" starts at byte 8 of the data buffer, leaving bytes [4, 8) unused"},
      {"hole at the start", safetensors_bytes("{" + f32_entry("a", "[1]", 4, 8) + "}", eight),
       "leaving bytes [0, 4) unused"},
      {"overlapping tensors",
       safetensors_bytes("{" + f32_entry("a", "[2]", 0, 8) + "," + f32_entry("b", "[1]", 4, 8) + "}", eight),
       "tensor \"b\" (data_offsets [4, 8]) overlaps tensor \"a\" which ends at byte 8"},
      {"trailing bytes", safetensors_bytes("{" + f32_entry("a", "[1]", 0, 4) + "}", eight),
       "the tensors cover 4 bytes but the data buffer holds 8"},
      {"duplicate names",
       safetensors_bytes("{" + f32_entry("a", "[1]", 0, 4) + "," + f32_entry("a", "[1]", 4, 8) + "}", eight),
       "duplicate key \"a\""},
      {"metadata not an object", safetensors_bytes(R"({"__metadata__":["x"]})", ""),
       "\"__metadata__\" must be an object of strings, got array"},
      {"metadata value not a string", safetensors_bytes(R"({"__metadata__":{"k":1}})", ""),
       "\"__metadata__\" must map strings to strings, but \"k\" is a number"},
  };
  TempDir tmp;
  int i = 0;
  for (const CorruptCase& c : cases) {
    const std::string path = tmp.file(absl::StrCat("corrupt_", i++, ".safetensors"));
    write_bytes(path, c.bytes);
    StatusOr<SafetensorsFile> f = read_safetensors(path);
    CAPTURE(c.what);
    REQUIRE_FALSE(f.ok());
    const std::string message(f.status().message());
    CAPTURE(message);
    CHECK(message.find(path) != std::string::npos);
    CHECK(message.find(c.message) != std::string::npos);
  }
}

TEST_CASE("read_safetensors: a missing file and a directory are errors") {
  TempDir tmp;
  StatusOr<SafetensorsFile> missing = read_safetensors(tmp.file("nope.safetensors"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message().find("nope.safetensors: file does not exist") != std::string::npos);
  StatusOr<SafetensorsFile> dir = read_safetensors(tmp.path());
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.status().message().find("not a regular file") != std::string::npos);
}

TEST_CASE("read_safetensors: empty tensors may share an offset; unknown entry fields are ignored") {
  // As in the reference: tensors sorted by (begin, end) must tile the buffer, so zero-length
  // tensors at the boundary between two others are fine.
  TempDir tmp;
  const std::string path = tmp.file("edge.safetensors");
  write_bytes(path, safetensors_bytes(
                        "{" + f32_entry("a", "[1]", 0, 4) + "," + f32_entry("e1", "[0]", 4, 4) + "," +
                            f32_entry("e2", "[2,0]", 4, 4) + "," +
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8],"extra":true})" + "}",
                        std::string(8, '\0')));
  StatusOr<SafetensorsFile> f = read_safetensors(path);
  REQUIRE_MESSAGE(f.ok(), f.status());
  CHECK(f->names == std::vector<std::string>{"a", "e1", "e2", "b"});
  CHECK(f->tensors.at("e2").shape() == Shape{2, 0});
}

}  // TEST_SUITE

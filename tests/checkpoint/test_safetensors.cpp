// safetensors: round trips of every dtype and odd shape, and byte-exact agreement with the
// reference serialiser (huggingface/safetensors) in both directions.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "core/rng.h"
#include "tests/checkpoint/temp_dir.h"
#include "train/checkpoint/safetensors.h"

using namespace mone;
using namespace mone::train;
using namespace mone::train::testing;

namespace {

// The raw bytes of a tensor's values, row-major: equal bytes means bit-identical values.
std::string tensor_bytes(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), c.nbytes());
}

std::string f32_bytes(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), 4);
  return out;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("safetensors round trip: every dtype, 0-d, empty and a non-contiguous view") {
  TempDir tmp;
  Generator gen(1234);
  Tensor matrix = randn({3, 4}, DType::kF32, gen);
  Tensor transposed = value_or_die(matrix.transpose(0, 1));  // [4, 3], strided
  REQUIRE_FALSE(transposed.is_contiguous());
  std::vector<std::pair<std::string, Tensor>> tensors = {
      {"model.f32", randn({2, 3}, DType::kF32, gen)},
      {"model.f64", randn({5}, DType::kF64, gen)},
      {"model.bf16", value_or_die(randn({3, 2}, DType::kF32, gen).to(DType::kBF16))},
      {"model.i32", value_or_die(Tensor::from_vector<int32_t>({-7, 0, 2147483647}, {3}))},
      {"model.i64", value_or_die(Tensor::from_vector<int64_t>({-1, int64_t{1} << 40}, {2, 1}))},
      {"scalar", Tensor::scalar<float>(2.5f)},
      {"empty", Tensor::zeros({0, 3})},
      {"empty.i64", Tensor::zeros({0}, DType::kI64)},
      {"transposed", transposed},
  };
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"step", "12"}};
  const std::string path = tmp.file("rt.safetensors");
  REQUIRE(write_safetensors(path, tensors, metadata).ok());
  CHECK_FALSE(exists(path + ".tmp"));

  StatusOr<SafetensorsFile> file = read_safetensors(path);
  REQUIRE_MESSAGE(file.ok(), file.status());
  CHECK(file->metadata == metadata);
  REQUIRE(file->names.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string& name = tensors[i].first;  // not a structured binding: CAPTURE is a lambda (clang 14)
    const Tensor& expected = tensors[i].second;
    CAPTURE(name);
    CHECK(file->names[i] == name);  // file order == the order we wrote
    const Tensor& got = file->tensors.at(name);
    CHECK(got.dtype() == expected.dtype());
    CHECK(got.shape() == expected.shape());
    CHECK(got.is_contiguous());
    CHECK(got.device().is_cpu());
    CHECK(tensor_bytes(got) == tensor_bytes(expected));
  }
  CHECK(file->tensors.at("scalar").item() == 2.5);
  // The transposed view was written in its logical (row-major) order, not its storage order.
  CHECK(file->tensors.at("transposed").to_vector<float>() == transposed.to_vector<float>());
  CHECK(file->tensors.at("transposed").to_vector<float>() != matrix.to_vector<float>());
}

TEST_CASE("safetensors byte layout: 8-byte length, compact JSON padded with spaces, data") {
  TempDir tmp;
  const std::string path = tmp.file("a.safetensors");
  Tensor a = value_or_die(Tensor::from_vector<float>({1.0f, 2.0f}, {2}));
  REQUIRE(write_safetensors(path, {{"a", a}}).ok());
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE(header.size() == 54);
  const std::string expected = std::string("\x38\0\0\0\0\0\0\0", 8) + header + "  " +
                               f32_bytes({1.0f, 2.0f});
  const std::string bytes = read_bytes(path);
  CHECK(bytes.size() == 8 + 56 + 8);
  CHECK(bytes == expected);
  CHECK((8 + 56) % 8 == 0);  // the data buffer starts aligned
}

TEST_CASE("safetensors: our writer reproduces the reference serialiser's test vectors") {
  TempDir tmp;
  // huggingface/safetensors tensor.rs test_serialization: "attn.0" F32 [1, 2, 3] = 0..5.
  {
    const std::string path = tmp.file("attn.safetensors");
    Tensor t = value_or_die(Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {1, 2, 3}));
    REQUIRE(write_safetensors(path, {{"attn.0", t}}).ok());
    const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
    CHECK(header.size() == 64);  // already a multiple of 8: no padding
    CHECK(read_bytes(path) == le64(64) + header + f32_bytes({0, 1, 2, 3, 4, 5}));
  }
  // test_empty: no tensors -> "{}" + 6 spaces; with metadata {"framework": "pt"} -> 40 bytes.
  {
    const std::string path = tmp.file("empty.safetensors");
    REQUIRE(write_safetensors(path, {}).ok());
    CHECK(read_bytes(path) == le64(8) + "{}      ");
    REQUIRE(write_safetensors(path, {}, {{"framework", "pt"}}).ok());
    CHECK(read_bytes(path) == le64(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
    StatusOr<SafetensorsFile> f = read_safetensors(path);
    REQUIRE(f.ok());
    CHECK(f->names.empty());
    CHECK(f->metadata.at("framework") == "pt");
  }
}

TEST_CASE("safetensors: reads files laid out as the Python library writes them") {
  TempDir tmp;
  // save_file({"a": torch.tensor([1., 2.])}) in Python writes exactly these bytes.
  {
    const std::string path = tmp.file("py_a.safetensors");
    write_bytes(path, safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                        f32_bytes({1.0f, 2.0f})));
    StatusOr<SafetensorsFile> f = read_safetensors(path);
    REQUIRE_MESSAGE(f.ok(), f.status());
    CHECK(f->names == std::vector<std::string>{"a"});
    CHECK(f->tensors.at("a").dtype() == DType::kF32);
    CHECK(f->tensors.at("a").shape() == Shape{2});
    CHECK(f->tensors.at("a").to_vector<float>() == std::vector<float>{1.0f, 2.0f});
    CHECK(f->metadata.empty());
  }
  // The reference sorts tensors by descending dtype alignment then name, so "w" (F64) comes
  // before "b" (F32); save_pretrained adds {"format": "pt"}. Header keys may come in any order.
  {
    const std::string path = tmp.file("py_sorted.safetensors");
    double w = -3.25;
    std::string data(reinterpret_cast<const char*>(&w), 8);
    data += f32_bytes({7.0f});
    write_bytes(path, safetensors_bytes(
                          R"({"__metadata__":{"format":"pt"},)"
                          R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                          R"("w":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})",
                          data));
    StatusOr<SafetensorsFile> f = read_safetensors(path);
    REQUIRE_MESSAGE(f.ok(), f.status());
    CHECK(f->names == std::vector<std::string>{"w", "b"});  // data offset order
    CHECK(f->tensors.at("w").dim() == 0);
    CHECK(f->tensors.at("w").item() == -3.25);
    CHECK(f->tensors.at("b").item() == 7.0);
    CHECK(f->metadata.at("format") == "pt");
  }
}

TEST_CASE("safetensors: F16 tensors are read into F32 exactly (normals, subnormals, zeros, infinities, NaN)") {
  TempDir tmp;
  const std::string path = tmp.file("half.safetensors");
  // torch.tensor([1, -2, 1/3, 65504, 2^-24, 1023·2^-24, 2^-14, inf, -inf, nan, -0.], dtype=torch.float16)
  const std::vector<uint16_t> halves = {0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x03FF,
                                        0x0400, 0x7C00, 0xFC00, 0x7E00, 0x8000};
  const std::string data(reinterpret_cast<const char*>(halves.data()), halves.size() * 2);
  write_bytes(path, safetensors_bytes(R"({"h":{"dtype":"F16","shape":[11],"data_offsets":[0,22]},)"
                                      R"("f":{"dtype":"F32","shape":[1],"data_offsets":[22,26]}})",
                                      data + f32_bytes({5.0f})));
  StatusOr<SafetensorsFile> f = read_safetensors(path);
  REQUIRE_MESSAGE(f.ok(), f.status());
  const Tensor& h = f->tensors.at("h");
  CHECK(h.dtype() == DType::kF32);
  CHECK(h.shape() == Shape{11});
  const std::vector<float> v = h.to_vector<float>();
  CHECK(v[0] == 1.0f);
  CHECK(v[1] == -2.0f);
  CHECK(v[2] == 0.333251953125f);  // 0x3555 = 1365/4096
  CHECK(v[3] == 65504.0f);
  CHECK(v[4] == std::ldexp(1.0f, -24));
  CHECK(v[5] == std::ldexp(1023.0f, -24));
  CHECK(v[6] == std::ldexp(1.0f, -14));
  CHECK((std::isinf(v[7]) && v[7] > 0));
  CHECK((std::isinf(v[8]) && v[8] < 0));
  CHECK(std::isnan(v[9]));
  CHECK((v[10] == 0.0f && std::signbit(v[10])));
  CHECK(f->stored_dtypes.at("h") == "F16");
  CHECK(f->stored_dtypes.at("f") == "F32");
  CHECK(f->tensors.at("f").item() == 5.0);
}

TEST_CASE("write_safetensors rejects bad names and tensors without touching the target") {
  TempDir tmp;
  const std::string path = tmp.file("w.safetensors");
  Tensor t = Tensor::zeros({2});
  REQUIRE(write_safetensors(path, {{"keep", t}}).ok());
  const std::string before = read_bytes(path);
  struct Case {
    std::vector<std::pair<std::string, Tensor>> tensors;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"x", t}, {"x", t}}, "tensor \"x\": the name appears twice"},
      {{{"__metadata__", t}}, "reserved for file metadata"},
      {{{"", t}}, "the name is empty"},
      {{{"u", Tensor()}}, "tensor \"u\": the tensor is undefined"},
  };
  for (const Case& c : cases) {
    Status s = write_safetensors(path, c.tensors);
    CAPTURE(s);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(path) != std::string::npos);
    CHECK(s.message().find(c.message) != std::string::npos);
  }
  CHECK(read_bytes(path) == before);
  CHECK_FALSE(exists(path + ".tmp"));
}

}  // TEST_SUITE

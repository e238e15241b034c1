// Fuzzes read_safetensors on a bare file (no manifest): any bytes either load or give an error
// naming the file. A file that loads is written back and must read back the same.
#include <cstring>

#include "tests/fuzz/fuzz_util.h"
#include "train/checkpoint/safetensors.h"

using namespace mone;

namespace {

void expect_same(const train::SafetensorsFile& a, const train::SafetensorsFile& b) {
  if (a.names != b.names || a.metadata != b.metadata) fuzz::fail("names or metadata change on a round trip");
  for (const std::string& name : a.names) {
    const Tensor& ta = a.tensors.at(name);
    const Tensor& tb = b.tensors.at(name);
    if (ta.shape() != tb.shape() || ta.dtype() != tb.dtype() ||
        std::memcmp(ta.raw_data(), tb.raw_data(), ta.nbytes()) != 0) {
      fuzz::fail("tensor \"" + name + "\" changes on a round trip");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::input_file("input.safetensors", fuzz::as_text(data, size));
  StatusOr<train::SafetensorsFile> file = train::read_safetensors(path);
  fuzz::expect_names(file, path);
  if (!file.ok()) return 0;

  // What loaded accounts for every byte: 8 + header + the tensors (checked tiling).
  uint64_t tensor_bytes = 0;
  for (const std::string& name : file->names) tensor_bytes += file->tensors.at(name).nbytes();
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, data, 8);
  if (8 + header_bytes + tensor_bytes != size) fuzz::fail("the tensors do not tile the data buffer");

  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const std::string& name : file->names) tensors.emplace_back(name, file->tensors.at(name));
  const std::string copy = join_path(fuzz::scratch_dir(), "copy.safetensors");
  // The writer refuses one thing the format allows: an empty tensor name (mone never writes one).
  const Status written = train::write_safetensors(copy, tensors, file->metadata);
  if (!written.ok()) {
    if (file->tensors.count("") == 0) fuzz::fail("a loaded file cannot be written: " + std::string(written.message()));
    return 0;
  }
  StatusOr<train::SafetensorsFile> again = train::read_safetensors(copy);
  if (!again.ok()) fuzz::fail("a file written from a loaded one does not load: " + std::string(again.status().message()));
  expect_same(*file, *again);
  return 0;
}

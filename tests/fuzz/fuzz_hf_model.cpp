// Fuzzes the weights of a Hugging Face transformers directory as `mone import`, `eval` and
// `generate` read them (load_hf_model): model.safetensors.index.json and the sharded or single
// safetensors files, whose tensors are renamed, converted from BF16/F16/F32 and checked against
// the parameters config.json describes. Errors name a file of the directory.
//
// Input: one byte choosing the file (fuzz::kHfFuzzedFiles[byte % size]), then its bytes. The
// other files are those of the tiny transformers models in tests/data/hf (made by transformers
// itself): Qwen2-MoE in BF16 over three shards with an index, packed Mixtral in F32, OLMoE in F16.
#include <iterator>
#include <map>

#include "tests/fuzz/fuzz_util.h"
#include "train/hf_interop.h"

using namespace mone;

namespace {

// scratch/<model>/, a copy of tests/data/hf/<model>/; returns the directory.
const std::string& model_dir(const std::string& model) {
  static std::map<std::string, std::string>* dirs = new std::map<std::string, std::string>;
  auto [it, fresh] = dirs->try_emplace(model, join_path(fuzz::scratch_dir(), model));
  if (fresh) {
    const std::string source = join_path(std::string(MONE_SOURCE_DIR) + "/tests/data/hf", model);
    MONE_CHECK_OK(make_directories(it->second));
    for (const std::string& name : value_or_die(list_directory(source), source.c_str())) {
      fuzz::write_bytes(join_path(it->second, name), fuzz::read_bytes(join_path(source, name)));
    }
  }
  return it->second;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const fuzz::HfFile& file = fuzz::kHfFuzzedFiles[data[0] % std::size(fuzz::kHfFuzzedFiles)];
  const std::string& dir = model_dir(file.model);
  const std::string path = join_path(dir, file.name);
  const std::string original = fuzz::read_bytes(path);
  fuzz::write_bytes(path, fuzz::as_text(data + 1, size - 1));
  StatusOr<std::unique_ptr<models::Transformer>> model = train::load_hf_model(dir);
  fuzz::expect_names(model, dir);
  fuzz::write_bytes(path, original);
  return 0;
}

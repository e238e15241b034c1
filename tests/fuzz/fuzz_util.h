// What the fuzz targets of tests/fuzz share: a scratch directory, fuzz bytes written as files, the
// properties every file parser promises, and the tiny checkpoint the checkpoint targets start from.
//
// A broken property calls fail(), which aborts: libFuzzer reports it as a crash and saves the
// input (crash-<sha1>), exactly as it does for a sanitizer report.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

#include "core/file_io.h"
#include "core/status.h"
#include "proto/model.pb.h"
#include "proto/train.pb.h"
#include "train/tokenizer/tokenizer.h"

namespace mone::fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz property broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// A directory of this process inside $MONE_FUZZ_SCRATCH (scripts/fuzz.sh makes one on tmpfs, so a
// file per input is cheap, and removes it with whatever a crash left), else inside /dev/shm or the
// temporary directory; removed when the process exits normally.
class ScratchDir {
 public:
  ScratchDir() {
    const char* env = std::getenv("MONE_FUZZ_SCRATCH");
    std::string base = env != nullptr && *env != '\0' ? env : "/dev/shm";
    if (::access(base.c_str(), W_OK) != 0) base = std::filesystem::temp_directory_path().string();
    path_ = base + "/mone_fuzz_XXXXXX";
    if (::mkdtemp(path_.data()) == nullptr) fail("cannot create a scratch directory in " + base);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline const std::string& scratch_dir() {
  static const ScratchDir dir;
  return dir.path();
}

// Writes bytes to `path` (replacing it), or fails: the harness itself must not go wrong.
inline void write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail("cannot write " + path);
}

inline std::string read_bytes(const std::string& path) {
  StatusOr<std::string> bytes = read_file_to_string(path);
  if (!bytes.ok()) fail(std::string(bytes.status().message()));
  return *bytes;
}

// scratch_dir()/name holding `bytes`; returns its path.
inline std::string input_file(const std::string& name, std::string_view bytes) {
  const std::string path = join_path(scratch_dir(), name);
  write_bytes(path, bytes);
  return path;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Two files in one input: the bytes before the first NUL and those after it (the second is
// empty when there is no NUL). Neither JSON nor a merges.txt holds a raw NUL.
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view input) {
  const size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return {input, {}};
  return {input.substr(0, nul), input.substr(nul + 1)};
}

// The house rule for user input: an error names the file (or source) it is about.
inline void expect_names(const Status& status, const std::string& source) {
  if (status.ok() || status.message().find(source) != std::string_view::npos) return;
  fail("the error does not name " + source + ": " + std::string(status.message()));
}

template <typename T>
void expect_names(const StatusOr<T>& result, const std::string& source) {
  expect_names(result.status(), source);
}

// A model small enough that a checkpoint of it is a few KiB: the seed corpora and the template
// of the checkpoint targets.
inline constexpr char kTinyModelSpec[] =
    "name: \"fuzz-tiny\" vocab_size: 16 hidden_size: 8 num_hidden_layers: 1 num_attention_heads: 2 "
    "max_position_embeddings: 8 ffn_type: MONE num_experts: 2 num_experts_per_tok: 1 "
    "moe_intermediate_size: 4 num_shared_experts: 1 neuron_topk: 2";

// The files fuzz_hf_model fuzzes, each in a copy of its model's folder of tests/data/hf.
struct HfFile {
  const char* model;
  const char* name;
};
inline constexpr HfFile kHfFuzzedFiles[] = {
    {"qwen2_moe", "model.safetensors.index.json"},
    {"qwen2_moe", "model-00001-of-00003.safetensors"},
    {"qwen2_moe", "model-00002-of-00003.safetensors"},
    {"qwen2_moe", "model-00003-of-00003.safetensors"},
    {"mixtral_packed", "model.safetensors"},
    {"olmoe", "model.safetensors"},
};

// The resolved train spec of the tiny model (inline), as a checkpoint records it.
StatusOr<proto::TrainSpec> tiny_train_spec();

// Saves step 1 of the tiny model (fresh weights, zero AdamW moments) into run_dir with
// save_checkpoint: manifest and `latest` included. Returns the checkpoint directory.
StatusOr<std::string> write_tiny_checkpoint(const std::string& run_dir);

// A train spec names files by path. The harness never follows a path from fuzz input: a model
// spec named as one in configs/models/ is kept (made absolute), any other becomes tiny_mone's; a
// data or tokenizer path becomes an absolute one in the scratch directory, which resolving the
// spec takes as written (nothing reads data before the spec is valid).
void pin_paths(proto::TrainSpec& spec);

// What a loaded tokenizer promises: decode(encode(text)) == text, with and without special tokens,
// for a fixed text and for `extra_text`; and saving it as tokenizer.json and loading that gives
// the same tokens, merges, special ids, split regex and options.
void check_tokenizer(const train::Tokenizer& tokenizer, std::string_view extra_text);

// What a valid ModelSpec promises: its full text parses back to the same spec, its config.json can
// be written and reads back to the same config, and `mone inspect` can compute its costs.
void check_model_spec(const proto::ModelSpec& spec);

// What `mone train` does with a parsed TrainSpec before it reads data: pin the paths, resolve
// and validate (an error names `source` or the model spec file). A resolved spec keeps
// check_model_spec's promises, its text (as a checkpoint records it) parses back to the same spec,
// and its schedule gives a finite learning rate at the first and the last step.
void check_train_spec(proto::TrainSpec spec, const std::string& source);

}  // namespace mone::fuzz

// Fuzzes GPT-2's vocab.json + merges.txt loader: any bytes either load, or give an error naming
// one of the two files; a tokenizer that loads keeps check_tokenizer's promises (fuzz_util.h).
//
// Input: vocab.json, a NUL, merges.txt.
#include "tests/fuzz/fuzz_util.h"
#include "train/tokenizer/tokenizer_files.h"

using namespace mone;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [vocab, merges] = fuzz::split_at_nul(fuzz::as_text(data, size));
  const std::string vocab_path = fuzz::input_file("vocab.json", vocab);
  const std::string merges_path = fuzz::input_file("merges.txt", merges);
  StatusOr<train::Tokenizer> tokenizer = train::load_gpt2_files(vocab_path, merges_path);
  if (!tokenizer.ok()) {
    const absl::string_view message = tokenizer.status().message();
    if (message.find(vocab_path) == absl::string_view::npos && message.find(merges_path) == absl::string_view::npos) {
      fuzz::fail("the error names neither file: " + std::string(message));
    }
    return 0;
  }
  fuzz::check_tokenizer(*tokenizer, merges.substr(0, 256));
  return 0;
}

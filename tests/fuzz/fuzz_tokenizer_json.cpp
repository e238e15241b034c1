// Fuzzes the Hugging Face tokenizer.json loader: any bytes either load, or give an error naming
// the file; a tokenizer that loads keeps check_tokenizer's promises (fuzz_util.h).
#include "tests/fuzz/fuzz_util.h"
#include "train/tokenizer/tokenizer_files.h"

using namespace mone;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  const std::string path = fuzz::input_file("tokenizer.json", input);
  StatusOr<train::Tokenizer> tokenizer = train::load_tokenizer_json(path);
  fuzz::expect_names(tokenizer, path);
  if (tokenizer.ok()) fuzz::check_tokenizer(*tokenizer, input.substr(0, 256));
  return 0;
}

// Files written by Hugging Face `tokenizers` (0.23.3) and the ids it gave, kept as golden data:
// data/hf_gpt2_regex.json   ByteLevel pre-tokenizer, merges as ["a", "b"], <|endoftext|> = id 0
// data/hf_split_regex.json  Split(Llama-3 regex) + ByteLevel(use_regex=false), ignore_merges
// Both were trained by BpeTrainer(vocab_size=320) on the 4 lines of sample text in
// test_bpe_trainer.cpp repeated 20 times.
#include <doctest/doctest.h>

#include "train/tokenizer/tokenizer_files.h"

using namespace mone;
using namespace mone::train;
using Ids = std::vector<int32_t>;

namespace {

const std::string kData = std::string(MONE_SOURCE_DIR) + "/tests/tokenizer/data/";
const char* kProbes[] = {"The cat sat on the theatre mat.", "It's 2024: they'll say 12345 résumé 🙂!",
                         "tabs\tand  double  spaces\n\n x"};

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("Hugging Face tokenizer.json (ByteLevel): mone encodes as tokenizers does") {
  Tokenizer t = value_or_die(load_tokenizer_json(kData + "hf_gpt2_regex.json"));
  CHECK(t.vocab_size() == 320);
  CHECK(t.eot_id() == 0);
  const Ids expected[] = {{274, 271, 270, 259, 221, 268, 260, 260, 259, 316, 279, 259, 14},
                          {295, 265, 221, 291, 20, 26, 260, 89, 288, 270, 300, 221, 290, 292, 21, 263, 269, 318, 312, 221, 285, 1},
                          {84, 296, 83, 198, 273, 221, 264, 85, 304, 69, 221, 270, 315, 267, 199, 199, 221, 88}};
  for (int i = 0; i < 3; ++i) {
    CHECK(t.encode(kProbes[i]) == expected[i]);
    CHECK(t.decode(expected[i]) == kProbes[i]);
  }
  CHECK(t.encode_with_special("x<|endoftext|>") == Ids{88, 0});  // "x" is 88 (see the third probe)
}

TEST_CASE("Hugging Face tokenizer.json (Split regex, ignore_merges): mone encodes as tokenizers does") {
  Tokenizer t = value_or_die(load_tokenizer_json(kData + "hf_split_regex.json"));
  CHECK(t.parts().ignore_merges);
  CHECK(t.parts().split_pattern != kGpt2SplitPattern);
  const Ids expected[] = {{275, 272, 271, 259, 221, 269, 260, 260, 259, 317, 280, 259, 14},
                          {296, 265, 221, 293, 20, 26, 260, 89, 290, 271, 301, 221, 292, 19, 20, 21, 263, 270, 319, 313, 221, 286, 1},
                          {84, 297, 83, 198, 274, 221, 264, 85, 305, 69, 221, 271, 316, 268, 199, 199, 221, 88}};
  for (int i = 0; i < 3; ++i) CHECK(t.encode(kProbes[i]) == expected[i]);
}

}  // TEST_SUITE

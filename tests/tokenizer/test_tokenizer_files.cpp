// tokenizer.json and GPT-2's vocab.json + merges.txt: loading, saving, and every bad-input error.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "tests/tokenizer/tokenizer_test_util.h"
#include "train/tokenizer/bpe_trainer.h"
#include "train/tokenizer/byte_level.h"
#include "train/tokenizer/text_inputs.h"
#include "train/tokenizer/tokenizer_files.h"

using namespace mone;
using namespace mone::train;
using nlohmann::json;
using testing::TempDir;
using testing::write_file;
using Ids = std::vector<int32_t>;

namespace {

// A tiny GPT-2-style vocabulary: the 256 byte tokens in GPT-2's order (printable bytes first,
// so 't' is 83 and '\n' is 198 as in the real GPT-2), then "Ġt" 256, "he" 257, "Ġthe" 258 and
// <|endoftext|> 259; merges "Ġ t", "h e", "Ġt he".
json tiny_vocab() {
  json vocab = json::object();
  int id = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int b = 0; b < 256; ++b) {
      bool printable = byte_to_code_point(static_cast<unsigned char>(b)) == static_cast<char32_t>(b);
      if (printable == (pass == 0)) vocab[bytes_to_byte_level(std::string(1, static_cast<char>(b)))] = id++;
    }
  }
  vocab["Ġt"] = 256;
  vocab["he"] = 257;
  vocab["Ġthe"] = 258;
  vocab["<|endoftext|>"] = 259;
  return vocab;
}
const char* kTinyMerges = "#version: 0.2\nĠ t\nh e\nĠt he\n";

json tiny_tokenizer_json(bool merges_as_arrays) {
  json merges = merges_as_arrays ? json::parse(R"([["Ġ", "t"], ["h", "e"], ["Ġt", "he"]])")
                                 : json::parse(R"(["Ġ t", "h e", "Ġt he"])");
  return {{"version", "1.0"},
          {"added_tokens", {{{"id", 259}, {"content", "<|endoftext|>"}, {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"vocab", tiny_vocab()}, {"merges", merges}}}};
}

// The tiny tokenizer's expected encodings.
void check_tiny_encodings(const Tokenizer& t) {
  CHECK(t.vocab_size() == 260);
  CHECK(t.eot_id() == 259);
  CHECK(t.encode(" the") == Ids{258});
  CHECK(t.encode("the") == Ids{83, 257});  // 't' + "he"
  CHECK(t.encode(" the\n") == Ids{258, 198});
  CHECK(t.encode(" th") == Ids{256, 71});  // 'h' = 104 - 33
  CHECK(t.encode_with_special("the<|endoftext|> the") == Ids{83, 257, 259, 258});
  CHECK(t.decode(Ids{258, 259, 198}) == " the<|endoftext|>\n");
}

// The error is InvalidArgument/NotFound, names `file`, and says `what`.
void check_error(const StatusOr<Tokenizer>& result, const std::string& file, const std::string& what) {
  REQUIRE_FALSE(result.ok());
  std::string message(result.status().message());
  INFO("message: " << message);
  CHECK(message.find(file) != std::string::npos);
  CHECK(message.find(what) != std::string::npos);
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("tokenizer.json: both merge spellings load and encode the same") {
  TempDir dir;
  write_file(dir.file("strings.json"), tiny_tokenizer_json(false).dump());
  write_file(dir.file("arrays.json"), tiny_tokenizer_json(true).dump(2));
  Tokenizer strings = value_or_die(load_tokenizer_json(dir.file("strings.json")));
  Tokenizer arrays = value_or_die(load_tokenizer_json(dir.file("arrays.json")));
  check_tiny_encodings(strings);
  check_tiny_encodings(arrays);
  CHECK(strings.merges() == arrays.merges());
  CHECK(strings.merges() == std::vector<std::pair<int32_t, int32_t>>{{188 + 32, 83}, {71, 68}, {256, 257}});
}

TEST_CASE("GPT-2 vocab.json + merges.txt load, and save as tokenizer.json exactly") {
  TempDir dir;
  write_file(dir.file("vocab.json"), tiny_vocab().dump());
  write_file(dir.file("merges.txt"), kTinyMerges);
  Tokenizer gpt2 = value_or_die(load_gpt2_files(dir.file("vocab.json"), dir.file("merges.txt")));
  check_tiny_encodings(gpt2);
  CHECK(gpt2.is_special(259));

  REQUIRE(gpt2.save(dir.file("tokenizer.json")).ok());
  Tokenizer again = value_or_die(load_tokenizer_json(dir.file("tokenizer.json")));
  check_tiny_encodings(again);
  CHECK(again.parts().tokens == gpt2.parts().tokens);
  CHECK(again.merges() == gpt2.merges());

  // The file is Hugging Face's layout.
  json saved = json::parse(value_or_die(read_file_to_string(dir.file("tokenizer.json"))));
  CHECK(saved["model"]["type"] == "BPE");
  CHECK(saved["model"]["vocab"]["Ġthe"] == 258);
  CHECK(saved["model"]["vocab"]["<|endoftext|>"] == 259);
  CHECK(saved["model"]["merges"][2] == "Ġt he");
  CHECK(saved["added_tokens"][0]["content"] == "<|endoftext|>");
  CHECK(saved["added_tokens"][0]["id"] == 259);
  CHECK(saved["pre_tokenizer"]["type"] == "ByteLevel");
  CHECK(saved["decoder"]["type"] == "ByteLevel");
}

TEST_CASE("save/load of a trained tokenizer round-trips byte for byte") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 30; ++i) text += "The quick brown fox jumps over the lazy dog; 12345 times!\n\tTabs, ünïcödé, 日本.\n";
  Tokenizer trained = value_or_die(train_bpe({text}, 330));
  REQUIRE(trained.save(dir.file("a.json")).ok());
  Tokenizer loaded = value_or_die(load_tokenizer_json(dir.file("a.json")));
  REQUIRE(loaded.save(dir.file("b.json")).ok());
  CHECK(value_or_die(read_file_to_string(dir.file("a.json"))) == value_or_die(read_file_to_string(dir.file("b.json"))));
  CHECK(loaded.parts().tokens == trained.parts().tokens);
  CHECK(loaded.merges() == trained.merges());
  CHECK(loaded.eot_id() == trained.eot_id());
  std::mt19937 rng(5);
  for (int i = 0; i < 100; ++i) {
    std::string s = i % 2 ? testing::random_text(rng, 100) : text.substr(rng() % 500, 100);
    REQUIRE(loaded.encode(s) == trained.encode(s));
  }
  CHECK_FALSE(std::filesystem::exists(dir.file("a.json.tmp")));  // the temporary was renamed
}

TEST_CASE("tokenizer.json: a Split regex before ByteLevel is used, and saved back") {
  TempDir dir;
  json j = tiny_tokenizer_json(false);
  const std::string pattern = R"(\p{N}{1,3}|\p{L}+|\s+|[^\s\p{L}\p{N}]+)";
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
                          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  write_file(dir.file("split.json"), j.dump());
  Tokenizer t = value_or_die(load_tokenizer_json(dir.file("split.json")));
  CHECK(t.parts().split_pattern == pattern);
  // This regex keeps a space apart from the word after it, so " the" is no longer one piece.
  CHECK(t.encode(" the") == Ids{220, 83, 257});
  REQUIRE(t.save(dir.file("saved.json")).ok());
  Tokenizer again = value_or_die(load_tokenizer_json(dir.file("saved.json")));
  CHECK(again.parts().split_pattern == pattern);
}

TEST_CASE("tokenizer.json: every bad input is an error naming the file") {
  TempDir dir;
  const std::string path = dir.file("tokenizer.json");
  auto load_text = [&](const std::string& text) {
    write_file(path, text);
    return load_tokenizer_json(path);
  };
  auto load_edited = [&](auto edit) {
    json j = tiny_tokenizer_json(false);
    edit(j);
    return load_text(j.dump());
  };

  StatusOr<Tokenizer> missing = load_tokenizer_json(dir.file("nope.json"));
  check_error(missing, dir.file("nope.json"), "does not exist");
  CHECK(absl::IsNotFound(missing.status()));
  check_error(load_tokenizer_json(dir.path()), dir.path(), "is a directory");
  check_error(load_text(""), path, "file is empty");
  check_error(load_text("{\"model\": }"), path, "invalid JSON");
  check_error(load_text("[1, 2]"), path, "expected a JSON object");
  check_error(load_text("{\"version\": \"1.0\"}"), path, "no \"model\" object");
  check_error(load_edited([](json& j) { j["model"]["type"] = "WordPiece"; }), path, "model.type is \"WordPiece\", expected \"BPE\"");
  check_error(load_edited([](json& j) { j["model"].erase("vocab"); }), path, "model.vocab is missing");
  check_error(load_edited([](json& j) { j["model"]["merges"] = "Ġ t"; }), path, "model.merges is missing or not an array");
  check_error(load_edited([](json& j) { j["model"]["merges"][1] = "h zz"; }), path, "model.merges[1]: unknown token \"zz\"");
  check_error(load_edited([](json& j) { j["model"]["merges"][1] = "he"; }), path, "model.merges[1] is");
  check_error(load_edited([](json& j) { j["model"]["merges"][1] = "h  e"; }), path, "expected \"left right\"");
  check_error(load_edited([](json& j) { j["model"]["merges"][1] = json::array({"h", "e", "x"}); }), path, "model.merges[1] is");
  check_error(load_edited([](json& j) { j["model"]["merges"][1] = json::array({"h", 5}); }), path, "model.merges[1] is");
  check_error(load_edited([](json& j) { j["model"]["merges"].push_back("t h"); }), path, "merged token 'th' is not in the vocabulary");
  check_error(load_edited([](json& j) { j["model"]["vocab"]["Ġthe"] = 300; }), path, "without gaps");
  check_error(load_edited([](json& j) { j["model"]["vocab"]["Ġthe"] = 257; }), path, "id 257 is given to two tokens");
  check_error(load_edited([](json& j) { j["model"]["vocab"]["Ġthe"] = "x"; }), path, "expected a non-negative integer");
  check_error(load_edited([](json& j) { j["model"]["vocab"]["Ġthe"] = -1; }), path, "expected a non-negative integer");
  check_error(load_edited([](json& j) { j["model"]["vocab"]["Ġthe"] = 2.5; }), path, "expected a non-negative integer");
  check_error(load_edited([](json& j) {
                j["model"]["vocab"].erase("!");
                j["model"]["vocab"]["!!"] = 0;
              }),
              path, "byte 0x21 (spelled '!') has no token");
  check_error(load_edited([](json& j) {
                j["model"]["vocab"].erase("!");
                j["model"]["vocab"]["日"] = 0;
              }),
              path, "not spelled in GPT-2's byte-level alphabet");
  check_error(load_edited([](json& j) { j["added_tokens"][0]["id"] = 5; }), path, "special token \"<|endoftext|>\" has id 5");
  check_error(load_edited([](json& j) { j["added_tokens"][0].erase("content"); }), path, "needs \"id\" and \"content\"");
  check_error(load_edited([](json& j) { j["added_tokens"] = 3; }), path, "added_tokens is not an array");
  check_error(load_edited([](json& j) { j["normalizer"] = {{"type", "NFC"}}; }), path, "normalizer");
  check_error(load_edited([](json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }), path, "pre_tokenizer");
  check_error(load_edited([](json& j) { j.erase("pre_tokenizer"); }), path, "pre_tokenizer null is not supported");
  check_error(load_edited([](json& j) { j["pre_tokenizer"]["add_prefix_space"] = true; }), path, "add_prefix_space");
  check_error(load_edited([](json& j) { j["pre_tokenizer"]["use_regex"] = false; }), path, "use_regex=false");
  check_error(load_edited([](json& j) { j["model"]["byte_fallback"] = true; }), path, "byte_fallback");
  check_error(load_edited([](json& j) { j["model"]["continuing_subword_prefix"] = "##"; }), path, "continuing_subword_prefix");
  check_error(load_edited([](json& j) { j["model"]["byte_fallback"] = "yes"; }), path, "unexpected content");
}

TEST_CASE("GPT-2 files: every bad input is an error naming the file") {
  TempDir dir;
  const std::string vocab = dir.file("vocab.json"), merges = dir.file("merges.txt");
  write_file(vocab, tiny_vocab().dump());
  auto load_merges = [&](const std::string& text) {
    write_file(merges, text);
    return load_gpt2_files(vocab, merges);
  };
  CHECK(load_merges(kTinyMerges).ok());
  CHECK(load_merges("#version: 0.2\r\nĠ t\r\nh e\r\n").ok());  // Windows line ends
  CHECK(load_merges("Ġ t\nh e").ok());                          // no version line, no final newline
  check_error(load_gpt2_files(dir.file("missing.json"), merges), dir.file("missing.json"), "does not exist");
  check_error(load_gpt2_files(vocab, dir.file("missing.txt")), dir.file("missing.txt"), "does not exist");
  check_error(load_merges(""), merges, "file is empty");
  check_error(load_merges("#version: 0.2\nĠ t\nĠt\nh e\n"), merges, "line 3 is \"Ġt\", expected two tokens");
  check_error(load_merges("#version: 0.2\nĠ t\nh e x\n"), merges, "line 3 is");
  check_error(load_merges("#version: 0.2\nĠ zz\n"), merges, "line 2: unknown token \"zz\"");
  check_error(load_merges("#version: 0.2\nt h\n"), merges, "merged token 'th' is not in the vocabulary");

  auto load_vocab = [&](const std::string& text) {
    write_file(vocab, text);
    return load_gpt2_files(vocab, merges);
  };
  write_file(merges, kTinyMerges);
  check_error(load_vocab(""), vocab, "file is empty");
  check_error(load_vocab("{\"a\": 0,"), vocab, "invalid JSON");
  check_error(load_vocab("[\"a\"]"), vocab, "expected a JSON object");
  json gap = tiny_vocab();
  gap["Ġthe"] = 1000;
  check_error(load_vocab(gap.dump()), vocab, "without gaps");
  json dup = tiny_vocab();
  dup["Ġthe"] = 0;
  check_error(load_vocab(dup.dump()), vocab, "id 0 is given to two tokens");
}

TEST_CASE("tokenizer.json and merges.txt: random corruptions give a result or an error, never a crash") {
  TempDir dir;
  const std::string good = tiny_tokenizer_json(false).dump(1);
  std::mt19937 rng(31);
  int failures = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bad = good;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      size_t at = rng() % bad.size();
      switch (rng() % 3) {
        case 0: bad[at] = static_cast<char>(rng() % 256); break;
        case 1: bad.erase(at, 1 + rng() % 8); break;
        default: bad.resize(at); break;  // truncated file
      }
      if (bad.empty()) bad.push_back('x');
    }
    write_file(dir.file("t.json"), bad);
    StatusOr<Tokenizer> t = load_tokenizer_json(dir.file("t.json"));
    if (!t.ok()) {
      ++failures;
      CHECK(std::string(t.status().message()).find(dir.file("t.json")) != std::string::npos);
    }
  }
  CHECK(failures > 200);  // nearly every corruption is caught
  write_file(dir.file("vocab.json"), tiny_vocab().dump());
  for (int i = 0; i < 100; ++i) {
    std::string merges = kTinyMerges;
    merges[rng() % merges.size()] = "  \n\rx\xC4"[rng() % 6];
    write_file(dir.file("merges.txt"), merges);
    StatusOr<Tokenizer> t = load_gpt2_files(dir.file("vocab.json"), dir.file("merges.txt"));
    if (t.ok()) CHECK(t->decode(t->encode(" the cat")) == " the cat");
  }
}

TEST_CASE("load_tokenizer: a tokenizer.json, or a directory with one or with GPT-2's files") {
  TempDir dir;
  write_file(dir.file("gpt2/vocab.json"), tiny_vocab().dump());
  write_file(dir.file("gpt2/merges.txt"), kTinyMerges);
  check_tiny_encodings(value_or_die(load_tokenizer(dir.file("gpt2"))));
  write_file(dir.file("hf/tokenizer.json"), tiny_tokenizer_json(true).dump());
  check_tiny_encodings(value_or_die(load_tokenizer(dir.file("hf"))));
  check_tiny_encodings(value_or_die(load_tokenizer(dir.file("hf/tokenizer.json"))));
  std::filesystem::create_directories(dir.file("empty"));
  check_error(load_tokenizer(dir.file("empty")), dir.file("empty"), "no tokenizer.json, nor vocab.json + merges.txt");
  check_error(load_tokenizer(dir.file("missing.json")), dir.file("missing.json"), "does not exist");
}

TEST_CASE("save: an unwritable path is an error naming it") {
  Tokenizer t = value_or_die(train_bpe({"abc abc"}, 260));
  const std::string path = "/nonexistent-dir/tokenizer.json";
  Status s = t.save(path);
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.message()).find(path) != std::string::npos);
}

}  // TEST_SUITE

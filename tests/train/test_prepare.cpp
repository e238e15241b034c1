#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tests/run_mone.h"
#include "tests/temp_dir.h"
#include "train/data/find_shards.h"
#include "train/data/shard.h"
#include "train/prepare.h"
#include "models/spec.h"
#include "train/tokenizer/bpe_trainer.h"
#include "train/trainer.h"

using namespace mone;

TEST_SUITE("unit") {

TEST_CASE("split_documents cuts at separator lines only") {
  auto d = train::split_documents("one\n%\ntwo\nlines\n%\n%\nthree %\n", "%");
  REQUIRE(d.size() == 3);
  CHECK(d[0] == "one\n");
  CHECK(d[1] == "two\nlines\n");
  CHECK(d[2] == "three %\n");
  CHECK(train::split_documents("all of it", "").size() == 1);
  CHECK(train::split_documents("", "%").empty());
}

TEST_CASE("prepare_data writes EOT-separated train and val shards that decode to the documents") {
  mone_testing::TempDir scratch;
  const std::filesystem::path dir = scratch.path();
  std::filesystem::create_directories(dir / "text");
  std::string corpus;
  for (int i = 0; i < 20; ++i) corpus += "document number " + std::to_string(i) + " says hello\n%\n";
  std::ofstream(dir / "text" / "a.txt") << corpus;
  auto docs = value_or_die(train::read_documents({(dir / "text").string()}, "%"));
  REQUIRE(docs.size() == 20);
  auto tok = value_or_die(train::train_bpe(docs, 300));
  train::PrepareOptions o;
  o.inputs = {(dir / "text").string()};
  o.out_dir = (dir / "shards").string();
  o.doc_separator = "%";
  o.val_fraction = 0.25;
  auto s = value_or_die(train::prepare_data(tok, o));
  CHECK(s.documents == 20);
  CHECK(s.val_documents == 5);  // floor((i+1)/4) > floor(i/4): i = 3, 7, 11, 15, 19
  auto train_files = value_or_die(train::find_shards(o.out_dir, "train"));
  auto val_files = value_or_die(train::find_shards(o.out_dir, "val"));
  REQUIRE(val_files.size() == 1);
  auto val = value_or_die(train::TokenShard::open(val_files[0]));
  CHECK(val.size() == s.val_tokens);
  std::vector<int32_t> ids(val.size());
  val.copy(0, val.size(), ids.data());
  CHECK(ids[0] == tok.eot_id());
  // Decoding the val shard gives documents 3, 7, 11, 15, 19 in order, each after an EOT.
  std::string expected;
  for (int i : {3, 7, 11, 15, 19}) expected += "<|endoftext|>" + docs[i];
  CHECK(tok.decode(ids) == expected);
  // A missing input is an error naming it.
  o.inputs = {(dir / "nope").string()};
  auto bad = train::prepare_data(tok, o);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("nope") != std::string::npos);
}

}  // TEST_SUITE

TEST_SUITE("unit") {

TEST_CASE("a train spec's tokenizer must fit the model's vocabulary") {
  mone_testing::TempDir scratch;
  auto docs = value_or_die(train::read_documents({"/usr/share/common-licenses"}, ""));
  auto tok = value_or_die(train::train_bpe(docs, 300));
  const std::string path = scratch.file("tokenizer.json");
  REQUIRE(tok.save(path).ok());
  proto::TrainSpec spec;
  *spec.mutable_model() =
      value_or_die(models::load_model_spec(std::string(MONE_SOURCE_DIR) + "/configs/models/tiny_mone.textproto"));
  spec.set_vocab_size(299);
  spec.set_tokenizer(path);
  spec.set_train_data(scratch.file("no_data_needed_before_this_check"));
  spec.set_run_dir(scratch.file("run"));
  train::TrainOptions options;
  options.log = nullptr;
  auto r = train::run_training(spec, options);
  REQUIRE_FALSE(r.ok());
  const std::string msg(r.status().message());
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("300 tokens") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(scratch.file("run")));  // nothing written
}

}  // TEST_SUITE

namespace {

std::vector<int32_t> read_ids(const std::string& path) {
  auto shard = value_or_die(train::TokenShard::open(path));
  std::vector<int32_t> ids(shard.size());
  shard.copy(0, shard.size(), ids.data());
  return ids;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("--shard-tokens: every shard holds at most N tokens, documents continue in the next shard") {
  mone_testing::TempDir scratch;
  std::filesystem::create_directories(scratch.file("text"));
  std::string corpus;
  for (int i = 0; i < 12; ++i) corpus += "document " + std::to_string(i) + " is a little longer than ten tokens\n%\n";
  std::ofstream(scratch.file("text/a.txt")) << corpus;
  auto docs = value_or_die(train::read_documents({scratch.file("text")}, "%"));
  auto tok = value_or_die(train::train_bpe(docs, 300));
  train::PrepareOptions o;
  o.inputs = {scratch.file("text")};
  o.out_dir = scratch.file("shards");
  o.doc_separator = "%";
  o.val_fraction = 0;
  o.shard_tokens = 10;
  auto s = value_or_die(train::prepare_data(tok, o));
  auto files = value_or_die(train::find_shards(o.out_dir, "train"));
  REQUIRE(files.size() == static_cast<size_t>((s.train_tokens + 9) / 10));  // all full but the last
  std::vector<int32_t> all;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::vector<int32_t> ids = read_ids(files[i]);
    CHECK(ids.size() == (i + 1 < files.size() ? 10u : static_cast<size_t>(s.train_tokens - 10 * (files.size() - 1))));
    all.insert(all.end(), ids.begin(), ids.end());
  }
  // Together they are the documents, each after an EOT, in order.
  std::string expected;
  for (const auto& d : docs) expected += "<|endoftext|>" + d;
  CHECK(tok.decode(all) == expected);
  CHECK(files.size() > docs.size());  // documents were split across shards
}

TEST_CASE("--val-fraction with too few documents: the last document's tail is the validation split") {
  mone_testing::TempDir scratch;
  std::ofstream(scratch.file("one.txt")) << "a single document of some length, the only one the user has, "
                                            "which still must yield a validation split\n";
  auto docs = value_or_die(train::read_documents({scratch.file("one.txt")}, ""));
  REQUIRE(docs.size() == 1);
  auto tok = value_or_die(train::train_bpe(docs, 270));
  train::PrepareOptions o;
  o.inputs = {scratch.file("one.txt")};
  o.out_dir = scratch.file("shards");
  o.val_fraction = 0.1;
  auto s = value_or_die(train::prepare_data(tok, o));
  const int64_t n = static_cast<int64_t>(tok.encode(docs[0]).size()) + 1;  // with its EOT
  const int64_t tail = std::llround(0.1 * static_cast<double>(n));
  CHECK(s.split_document_tokens == tail);
  CHECK(s.val_tokens == tail);
  CHECK(s.train_tokens == n - tail);
  CHECK(s.val_documents == 0);
  const auto train_ids = read_ids(value_or_die(train::find_shards(o.out_dir, "train"))[0]);
  const auto val_ids = read_ids(value_or_die(train::find_shards(o.out_dir, "val"))[0]);
  CHECK(tok.decode(train_ids) + tok.decode(val_ids) == "<|endoftext|>" + docs[0]);  // a cut, nothing lost

  // Without validation asked for, nothing is split.
  o.val_fraction = 0;
  o.out_dir = scratch.file("no_val");
  auto none = value_or_die(train::prepare_data(tok, o));
  CHECK(none.val_tokens == 0);
  CHECK(none.split_document_tokens == 0);
  // A document too short to cut is refused with a clear message.
  std::ofstream(scratch.file("tiny.txt")) << "a";
  o.inputs = {scratch.file("tiny.txt")};
  o.val_fraction = 0.5;
  o.out_dir = scratch.file("tiny");
  auto bad = train::prepare_data(tok, o);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("too short to split") != std::string::npos);
}

TEST_CASE("mone data prepare on one document says where the validation split came from") {
  mone_testing::TempDir scratch;
  const std::string text = scratch.file("my_texts");
  std::filesystem::create_directories(text);
  std::ofstream(text + "/only.txt") << std::string(2000, 'x') + " and some words at the end of it\n";
  auto tok_run = mone_testing::run_mone_in(scratch.path(), "tokenizer train --input my_texts --vocab-size 300 --out out/nested/tokenizer.json");
  REQUIRE_MESSAGE(tok_run.exit_code == 0, tok_run.output);  // out/nested/ did not exist: created
  auto r = mone_testing::run_mone_in(scratch.path(), "data prepare --tokenizer out/nested/tokenizer.json --input my_texts --out data --val-fraction 0.05");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("no whole document fell into validation (--val-fraction 0.05 of 1 documents), so the last "
                      "document's last") != std::string::npos);
  CHECK(std::filesystem::exists(scratch.file("data/val_000000.bin")));
  // A document too short to cut: refused, the command named once.
  std::ofstream(text + "/only.txt") << "a";
  r = mone_testing::run_mone_in(scratch.path(), "data prepare --tokenizer out/nested/tokenizer.json --input my_texts --out data2 --val-fraction 0.5");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("mone data prepare: --val-fraction 0.5: no document fell into validation") != std::string::npos);
  CHECK(r.output.find("data prepare: data prepare") == std::string::npos);
}

TEST_CASE("an output path that cannot be written is refused before the work") {
  mone_testing::TempDir scratch;
  std::ofstream(scratch.file("a_file")) << "not a folder";
  auto r = mone_testing::run_mone_in(scratch.path(), "tokenizer train --input /usr/share/common-licenses --vocab-size 300 --out a_file/tokenizer.json");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("mone tokenizer train: ") != std::string::npos);
  CHECK(r.output.find("a_file") != std::string::npos);
  CHECK(r.output.find("trained a") == std::string::npos);  // nothing was trained
}

}  // TEST_SUITE

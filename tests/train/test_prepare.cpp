#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

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

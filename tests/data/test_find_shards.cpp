// find_shards: a file, a directory (with the llm.c train/val split) or a glob.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/data/data_test_util.h"
#include "train/data/find_shards.h"
#include "train/data/shard.h"

using namespace mone;
using namespace mone::train;
using namespace mone::train::testing;

TEST_SUITE("unit") {

TEST_CASE("find_shards resolves files and directories with splits and globs") {
  TempDir dir;
  const std::vector<uint32_t> tokens = {1, 2, 3};
  // Written out of order: the result must be sorted by name.
  for (const char* name : {"fineweb_val_000000.bin", "fineweb_train_000002.bin", "fineweb_train_000001.bin",
                           "tiny_val.bin"}) {
    REQUIRE(write_shard(dir.file(name), tokens, 10).ok());
  }
  write_bytes(dir.file("notes.txt"), {'h', 'i'});
  std::filesystem::create_directory(dir.file("sub_train.bin"));  // a directory named like a shard

  auto one = find_shards(dir.file("tiny_val.bin"));
  REQUIRE(one.ok());
  CHECK(*one == std::vector<std::string>{dir.file("tiny_val.bin")});

  auto all = find_shards(dir.path());
  REQUIRE(all.ok());
  CHECK(*all == std::vector<std::string>{dir.file("fineweb_train_000001.bin"), dir.file("fineweb_train_000002.bin"),
                                         dir.file("fineweb_val_000000.bin"), dir.file("tiny_val.bin")});

  auto train = find_shards(dir.path(), "train");
  REQUIRE(train.ok());
  CHECK(*train == std::vector<std::string>{dir.file("fineweb_train_000001.bin"), dir.file("fineweb_train_000002.bin")});

  auto val = find_shards(dir.path(), "val");
  REQUIRE(val.ok());
  CHECK(*val == std::vector<std::string>{dir.file("fineweb_val_000000.bin"), dir.file("tiny_val.bin")});

  auto globbed = find_shards(dir.path() + "/fineweb_*_00000[12].bin");
  REQUIRE(globbed.ok());
  CHECK(*globbed == std::vector<std::string>{dir.file("fineweb_train_000001.bin"), dir.file("fineweb_train_000002.bin")});
  auto star = find_shards(dir.path() + "/*.bin");  // skips the directory sub_train.bin
  REQUIRE(star.ok());
  CHECK(star->size() == 4);
}

TEST_CASE("find_shards errors name the path") {
  TempDir dir;
  const std::string missing = dir.file("missing.bin");
  CHECK(error_mentions(find_shards(missing).status(), {missing}));
  CHECK(error_mentions(find_shards(dir.path()).status(), {dir.path(), "no *.bin"}));  // empty directory
  REQUIRE(write_shard(dir.file("x_train.bin"), std::vector<uint32_t>{1}, 10).ok());
  CHECK(error_mentions(find_shards(dir.path(), "val").status(), {dir.path(), "'val'"}));
  CHECK(error_mentions(find_shards(dir.path() + "/*_val*.bin").status(), {dir.path() + "/*_val*.bin"}));
  CHECK(error_mentions(find_shards(dir.path(), "test").status(), {dir.path(), "'test'"}));
  CHECK_FALSE(find_shards("").ok());
}

}  // TEST_SUITE

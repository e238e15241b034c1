// read_text_inputs: files as given, directories walked in sorted order, binaries skipped.
#include <doctest/doctest.h>

#include "tests/tokenizer/tokenizer_test_util.h"
#include "train/tokenizer/text_inputs.h"

using namespace mone;
using namespace mone::train;
using testing::TempDir;
using testing::write_file;
using Texts = std::vector<std::string>;

TEST_SUITE("unit") {

TEST_CASE("read_text_inputs: files and directories") {
  TempDir dir;
  write_file(dir.file("corpus/b.txt"), "bee");
  write_file(dir.file("corpus/a/z.txt"), "zed");
  write_file(dir.file("corpus/a/c/d.md"), "dee");
  write_file(dir.file("corpus/binary.bin"), std::string("bi\0nary", 7));
  write_file(dir.file("corpus/.hidden"), "hidden");
  write_file(dir.file("corpus/.git/objects"), "git");
  std::filesystem::create_symlink(dir.file("corpus/b.txt"), dir.file("corpus/link.txt"));
  write_file(dir.file("single.txt"), std::string("given\0as is", 11));

  // Sorted by path: a/c/d.md < a/z.txt < b.txt; binary, hidden and linked files are left out.
  CHECK(value_or_die(read_text_inputs({dir.file("corpus")})) == Texts{"dee", "zed", "bee"});
  // A file named on its own is read as given, NULs and all, in argument order.
  CHECK(value_or_die(read_text_inputs({dir.file("single.txt"), dir.file("corpus/b.txt")})) ==
        Texts{std::string("given\0as is", 11), "bee"});
}

TEST_CASE("read_text_inputs: errors name the path") {
  TempDir dir;
  StatusOr<Texts> none = read_text_inputs({});
  CHECK_FALSE(none.ok());
  StatusOr<Texts> missing = read_text_inputs({dir.file("missing")});
  REQUIRE_FALSE(missing.ok());
  CHECK(absl::IsNotFound(missing.status()));
  CHECK(std::string(missing.status().message()).find(dir.file("missing")) != std::string::npos);
  std::filesystem::create_directories(dir.file("empty"));
  StatusOr<Texts> empty = read_text_inputs({dir.file("empty")});
  REQUIRE_FALSE(empty.ok());
  CHECK(std::string(empty.status().message()).find("no text files found in: " + dir.file("empty")) != std::string::npos);
}

}  // TEST_SUITE

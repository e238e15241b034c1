// TrainLoader (shuffled windows, exact resume) and EvalReader (llm.c's sequential order).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "tests/data/data_test_util.h"
#include "train/data/eval_reader.h"
#include "train/data/train_loader.h"

using namespace mone;
using namespace mone::train;
using namespace mone::train::testing;

namespace {

// Tokens first, first+1, ...: every token's value says where it sits, so a batch row tells us
// exactly which window it came from.
std::vector<uint32_t> counting(uint32_t first, int n) {
  std::vector<uint32_t> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out[i] = first + static_cast<uint32_t>(i);
  return out;
}

// Two shards: 23 tokens from 0 (windows at 0, 4, 8, 12, 16 for T = 4) and 14 tokens from 1000
// (windows at 1000, 1004, 1008): 8 windows in all.
struct TwoShards {
  TempDir dir;
  std::vector<std::string> paths{dir.file("a_train.bin"), dir.file("b_train.bin")};
  TwoShards() {
    REQUIRE(write_shard(paths[0], counting(0, 23), 2000).ok());
    REQUIRE(write_shard(paths[1], counting(1000, 14), 2000).ok());
  }
};
const std::set<int32_t> kWindowStarts = {0, 4, 8, 12, 16, 1000, 1004, 1008};

struct Batch {
  std::vector<int32_t> inputs, targets;
  bool operator==(const Batch&) const = default;
};

Batch next_batch(TrainLoader& loader) {
  const auto n = static_cast<size_t>(loader.rows() * loader.seq_len());
  Batch batch{std::vector<int32_t>(n), std::vector<int32_t>(n)};
  REQUIRE(loader.next(batch.inputs.data(), batch.targets.data()).ok());
  return batch;
}

// Checks every row is a real window (consecutive tokens, at a multiple of T, inside one shard),
// targets are the inputs shifted by one, and returns each row's first token.
std::vector<int32_t> window_starts(const Batch& batch, int64_t B, int64_t T) {
  std::vector<int32_t> starts;
  for (int64_t b = 0; b < B; ++b) {
    const int32_t first = batch.inputs[b * T];
    CHECK(kWindowStarts.count(first) == 1);
    for (int64_t t = 0; t < T; ++t) {
      CHECK(batch.inputs[b * T + t] == first + t);
      CHECK(batch.targets[b * T + t] == first + t + 1);
    }
    starts.push_back(first);
  }
  return starts;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("train batches are windows of the shards and each is visited once per epoch") {
  TwoShards data;
  auto loader = TrainLoader::open(data.paths, /*B=*/2, /*T=*/4, /*seed=*/42);
  REQUIRE(loader.ok());
  CHECK(loader->num_windows() == 8);
  CHECK(loader->batches_per_epoch() == 4);
  std::vector<std::vector<int32_t>> epochs;
  for (int e = 0; e < 3; ++e) {
    CHECK(loader->epoch() == static_cast<uint64_t>(e));
    std::vector<int32_t> seen;
    for (int j = 0; j < 4; ++j) {
      for (int32_t s : window_starts(next_batch(*loader), 2, 4)) seen.push_back(s);
    }
    CHECK(std::set<int32_t>(seen.begin(), seen.end()) == kWindowStarts);  // 8 rows, 8 distinct windows
    epochs.push_back(seen);
  }
  CHECK(loader->position() == 12);
  // Each epoch has its own order (fixed seed: these are fixed permutations, not luck).
  CHECK(epochs[0] != epochs[1]);
  CHECK(epochs[1] != epochs[2]);
  // The order is a real shuffle, not shard order.
  CHECK(epochs[0] != std::vector<int32_t>{0, 4, 8, 12, 16, 1000, 1004, 1008});
}

TEST_CASE("the tail that does not fill a batch is skipped and batches follow epoch_order") {
  TwoShards data;
  auto loader = TrainLoader::open(data.paths, /*B=*/3, /*T=*/4, /*seed=*/7);
  REQUIRE(loader.ok());
  CHECK(loader->batches_per_epoch() == 2);  // 8 windows: 6 used, 2 skipped per epoch
  for (uint64_t e = 0; e < 2; ++e) {
    const std::vector<int64_t> order = loader->epoch_order(e);
    REQUIRE(order.size() == 8);
    CHECK(std::set<int64_t>(order.begin(), order.end()).size() == 8);  // a permutation
    for (int j = 0; j < 2; ++j) {
      const std::vector<int32_t> starts = window_starts(next_batch(*loader), 3, 4);
      for (int b = 0; b < 3; ++b) {
        const auto [shard, start] = loader->window_location(order[j * 3 + b]);
        CHECK(starts[b] == (shard == 0 ? 0 : 1000) + start);
      }
    }
  }
  CHECK(loader->window_location(4) == std::pair<int64_t, int64_t>{0, 16});
  CHECK(loader->window_location(5) == std::pair<int64_t, int64_t>{1, 0});
  CHECK(loader->window_location(7) == std::pair<int64_t, int64_t>{1, 8});
}

TEST_CASE("data parallel: rank r of R serves rows r·B/R .. (r+1)·B/R-1 of the batch one process serves") {
  TwoShards data;
  auto whole = TrainLoader::open(data.paths, /*B=*/4, /*T=*/4, /*seed=*/5);
  auto first = TrainLoader::open(data.paths, 4, 4, 5, /*rank=*/0, /*ranks=*/2);
  auto second = TrainLoader::open(data.paths, 4, 4, 5, /*rank=*/1, /*ranks=*/2);
  REQUIRE(whole.ok());
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->rows() == 2);
  CHECK(first->batch_size() == 4);
  for (int j = 0; j < 5; ++j) {  // across an epoch boundary (2 batches per epoch)
    const Batch w = next_batch(*whole), a = next_batch(*first), b = next_batch(*second);
    Batch joined = a;
    joined.inputs.insert(joined.inputs.end(), b.inputs.begin(), b.inputs.end());
    joined.targets.insert(joined.targets.end(), b.targets.begin(), b.targets.end());
    CHECK(joined == w);
  }
  CHECK(first->position() == 5);  // global batches, so any rank count resumes from it
  CHECK(error_mentions(TrainLoader::open(data.paths, 4, 4, 5, 0, 3).status(),
                       {"batch_size 4 does not split over 3 ranks"}));
}

TEST_CASE("one seed gives one order and another seed another") {
  TwoShards data;
  auto a = TrainLoader::open(data.paths, 2, 4, 1);
  auto b = TrainLoader::open(data.paths, 2, 4, 1);
  auto c = TrainLoader::open(data.paths, 2, 4, 2);
  REQUIRE((a.ok() && b.ok() && c.ok()));
  std::vector<Batch> from_a, from_c;
  for (int i = 0; i < 10; ++i) {
    from_a.push_back(next_batch(*a));
    CHECK(next_batch(*b) == from_a.back());
    from_c.push_back(next_batch(*c));
  }
  CHECK(from_a != from_c);
  CHECK(a->epoch_order(0) != c->epoch_order(0));
}

TEST_CASE("seek(p) resumes exactly where a fresh loader's (p+1)-th batch is") {
  TwoShards data;
  auto fresh = TrainLoader::open(data.paths, 2, 4, 99);
  REQUIRE(fresh.ok());
  std::vector<Batch> reference;
  for (int i = 0; i < 13; ++i) reference.push_back(next_batch(*fresh));  // crosses three epochs

  auto resumed = TrainLoader::open(data.paths, 2, 4, 99);
  REQUIRE(resumed.ok());
  for (uint64_t p : {5u, 0u, 3u, 4u, 12u, 8u, 7u}) {  // forward, backward, at and across epoch edges
    REQUIRE(resumed->seek(p).ok());
    CHECK(resumed->position() == p);
    CHECK(next_batch(*resumed) == reference[p]);
    CHECK(resumed->position() == p + 1);
    if (p + 1 < reference.size()) CHECK(next_batch(*resumed) == reference[p + 1]);
  }
}

TEST_CASE("loaders work on uint32 shards too") {
  TempDir dir;
  const std::string path = dir.file("wide.bin");
  REQUIRE(write_shard(path, counting(100000, 9), 200000).ok());
  auto loader = TrainLoader::open({path}, 2, 4, 0);
  REQUIRE(loader.ok());
  Batch batch = next_batch(*loader);
  for (int b = 0; b < 2; ++b) {
    const int32_t first = batch.inputs[b * 4];
    CHECK((first == 100000 || first == 100004));
    CHECK(batch.targets[b * 4 + 3] == first + 4);
  }
  CHECK(batch.inputs[0] != batch.inputs[4]);
  CHECK(loader->check_max_token(200000).ok());
  CHECK(error_mentions(loader->check_max_token(100005), {path, "token 100005", "position 5"}));
}

TEST_CASE("too little data and bad sizes and bad shards are loader errors") {
  TempDir dir;
  const std::string a = dir.file("a.bin"), b = dir.file("b.bin");
  REQUIRE(write_shard(a, counting(0, 10), 100).ok());  // T = 4: windows at 0, 4
  REQUIRE(write_shard(b, counting(0, 4), 100).ok());   // shorter than T+1: no window
  CHECK(TrainLoader::open({a, b}, 2, 4, 0).ok());
  CHECK(error_mentions(TrainLoader::open({a, b}, 3, 4, 0).status(),
                       {a + " (10 tokens)", b + " (4 tokens)", "2 windows", "B = 3", "B·T+1 = 13", "B·(T+1) = 15"}));
  CHECK(error_mentions(TrainLoader::open({a}, 0, 4, 0).status(), {"B = 0"}));
  CHECK(error_mentions(TrainLoader::open({a}, 1, 0, 0).status(), {"T = 0"}));
  CHECK_FALSE(TrainLoader::open({}, 1, 4, 0).ok());
  CHECK(error_mentions(TrainLoader::open({a, dir.file("gone.bin")}, 1, 4, 0).status(), {dir.file("gone.bin")}));

  CHECK(error_mentions(EvalReader::open({a, b}, 2, 7).status(), {a, b, "14 tokens", "B·T+1 = 2·7+1 = 15"}));
  CHECK(EvalReader::open({a, b}, 2, 6).ok());  // 14 tokens: exactly B·T+1 = 13 fit
  CHECK(error_mentions(EvalReader::open({a}, 1, -1).status(), {"T = -1"}));
  CHECK(error_mentions(EvalReader::open({dir.file("gone.bin")}, 1, 1).status(), {dir.file("gone.bin")}));
}

TEST_CASE("EvalReader reads the concatenated shards in llm.c order across the boundary") {
  TempDir dir;
  const std::string a = dir.file("x_val_0.bin"), b = dir.file("x_val_1.bin");
  REQUIRE(write_shard(a, counting(0, 7), 200).ok());     // stream tokens 0..6
  REQUIRE(write_shard(b, counting(100, 12), 200).ok());  // stream tokens 7..18
  auto reader = EvalReader::open({a, b}, /*B=*/2, /*T=*/3);
  REQUIRE(reader.ok());
  CHECK(reader->num_tokens() == 19);
  CHECK(reader->num_batches() == 3);  // 3·6 + 1 = 19 tokens: exactly three

  std::vector<int32_t> inputs(6), targets(6);
  REQUIRE(reader->read(0, inputs.data(), targets.data()).ok());
  CHECK(inputs == std::vector<int32_t>{0, 1, 2, 3, 4, 5});
  CHECK(targets == std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  // Batch 1 starts on the last token of shard a and runs into shard b.
  REQUIRE(reader->read(1, inputs.data(), targets.data()).ok());
  CHECK(inputs == std::vector<int32_t>{6, 100, 101, 102, 103, 104});
  CHECK(targets == std::vector<int32_t>{100, 101, 102, 103, 104, 105});
  REQUIRE(reader->read(2, inputs.data(), targets.data()).ok());
  CHECK(inputs == std::vector<int32_t>{105, 106, 107, 108, 109, 110});
  CHECK(targets == std::vector<int32_t>{106, 107, 108, 109, 110, 111});  // the last token is a target

  CHECK(error_mentions(reader->read(3, inputs.data(), targets.data()), {"batch 3", "[0, 3)"}));
  CHECK_FALSE(reader->read(-1, inputs.data(), targets.data()).ok());
  CHECK(reader->check_max_token(200).ok());
  CHECK(error_mentions(reader->check_max_token(110), {b, "token 110", "position 10"}));
}

}  // TEST_SUITE

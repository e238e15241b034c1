// Fuzzes the llm.c token shard reader and both loaders over it: any bytes either open, or give an
// error naming the file; an opened shard serves every token and batch without reading outside it.
#include <vector>

#include "tests/fuzz/fuzz_util.h"
#include "train/data/eval_reader.h"
#include "train/data/shard.h"
#include "train/data/train_loader.h"

using namespace mone;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::input_file("input.bin", fuzz::as_text(data, size));
  StatusOr<train::TokenShard> shard = train::TokenShard::open(path);
  fuzz::expect_names(shard, path);
  if (!shard.ok()) return 0;

  std::vector<int32_t> tokens(static_cast<size_t>(shard->size()));
  shard->copy(0, shard->size(), tokens.data());
  const int64_t vocab = 1 + (data[size - 1] % 64);  // some ids fit, some do not
  const Status in_vocab = shard->check_max_token(vocab);
  fuzz::expect_names(in_vocab, path);
  bool all_below = true;
  for (int32_t id : tokens) all_below = all_below && static_cast<uint32_t>(id) < vocab;
  if (all_below != in_vocab.ok()) fuzz::fail("check_max_token disagrees with the tokens");

  // B = 2 windows of T = 3 (+1) tokens, as the trainer reads them.
  constexpr int64_t B = 2, T = 3;
  std::vector<int32_t> inputs(B * T), targets(B * T);
  StatusOr<train::TrainLoader> loader = train::TrainLoader::open({path}, B, T, /*seed=*/size);
  fuzz::expect_names(loader, path);
  if (loader.ok()) {
    MONE_CHECK_OK(loader->seek(data[0]));
    MONE_CHECK_OK(loader->next(inputs.data(), targets.data()));
  }
  StatusOr<train::EvalReader> reader = train::EvalReader::open({path}, B, T);
  fuzz::expect_names(reader, path);
  if (reader.ok()) MONE_CHECK_OK(reader->read(reader->num_batches() - 1, inputs.data(), targets.data()));
  return 0;
}

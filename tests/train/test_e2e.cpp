// End to end on a corpus every Debian machine has (/usr/share/common-licenses): train a tokenizer,
// prepare shards, train the tiny MoNE model for a few hundred steps, and require the validation
// loss to fall well below the unigram entropy of the data (what a model that ignores context
// could reach at best).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "models/spec.h"
#include "tests/temp_dir.h"
#include "train/data/find_shards.h"
#include "train/data/shard.h"
#include "train/prepare.h"
#include "train/tokenizer/bpe_trainer.h"
#include "train/trainer.h"

using namespace mone;

namespace {

// H = -Σ p log p over token frequencies of the shards, in nats per token.
double unigram_entropy(const std::vector<std::string>& shards) {
  std::map<uint32_t, int64_t> counts;
  int64_t n = 0;
  for (const auto& path : shards) {
    auto shard = value_or_die(train::TokenShard::open(path));
    for (int64_t i = 0; i < shard.size(); ++i) ++counts[shard.token(i)], ++n;
  }
  double h = 0;
  for (const auto& [id, c] : counts) h -= (double(c) / n) * std::log(double(c) / n);
  return h;
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("tiny MoNE learns /usr/share/common-licenses well below its unigram entropy") {
  mone_testing::TempDir scratch;
  const std::filesystem::path dir = scratch.path();
  const std::string corpus = "/usr/share/common-licenses";
  auto docs = value_or_die(train::read_documents({corpus}, ""));
  REQUIRE(docs.size() >= 8);
  auto tok = value_or_die(train::train_bpe(docs, 512));
  REQUIRE(tok.save((dir / "tokenizer.json").string()).ok());
  train::PrepareOptions prep;
  prep.inputs = {corpus};
  prep.out_dir = (dir / "data").string();
  prep.val_fraction = 0.2;
  auto summary = value_or_die(train::prepare_data(tok, prep));
  REQUIRE(summary.val_tokens > 4000);

  proto::TrainSpec spec;
  *spec.mutable_model() =
      value_or_die(models::load_model_spec(std::string(MONE_SOURCE_DIR) + "/configs/models/tiny_mone.textproto"));
  spec.set_vocab_size(tok.vocab_size());
  spec.set_tokenizer((dir / "tokenizer.json").string());
  spec.set_train_data(prep.out_dir);
  spec.set_val_data(prep.out_dir);
  spec.set_run_dir((dir / "run").string());
  spec.set_batch_size(8);
  spec.set_seq_len(64);
  spec.set_steps(250);
  spec.set_warmup_steps(20);
  spec.set_lr(3e-3);
  spec.set_eval_interval(125);
  spec.set_eval_batches(8);
  spec.set_checkpoint_interval(0);
  spec.set_log_interval(50);
  spec.set_seed(7);
  train::TrainOptions options;
  options.source = "<e2e>";
  options.log = nullptr;
  auto result = value_or_die(train::run_training(spec, options));
  // The run directory keeps the tokenizer, for `mone generate`.
  CHECK(std::filesystem::exists(dir / "run" / "tokenizer.json"));

  const double h = unigram_entropy(value_or_die(train::find_shards(prep.out_dir, "val")));
  REQUIRE(result.val_losses.size() >= 2);
  const double first = result.val_losses.front().second, last = result.final_val_loss();
  MESSAGE("unigram entropy ", h, " nats; val loss ", first, " -> ", last);
  CHECK(first > h);          // an untrained model is worse than unigram statistics
  CHECK(last < first - 2.0);  // it learned
  CHECK(last < 0.8 * h);     // and well beyond what unigram statistics allow
}

}  // TEST_SUITE

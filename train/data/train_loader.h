// The training data loader: shuffled windows of T+1 tokens from llm.c shards.
//
// B batch rows, T sequence length. A window is T+1 consecutive tokens of one shard starting at a
// multiple of T (start s = k·T with s + T + 1 <= shard size): inputs are its first T tokens,
// targets its last T, i.e. the inputs shifted left by one. Consecutive windows overlap by a token,
// so every token is a target once, as in llm.c.
//
// Order. All windows of all shards get a global index (shard by shard, in the order given).
// Epoch e visits them in a permutation drawn from (seed, e) alone; batch j of an epoch takes
// permuted windows j·B .. j·B+B-1, and the tail that does not fill a batch is skipped. So the
// p-th batch ever served is a pure function of (shards, B, T, seed, p): position() is all a
// checkpoint needs, and seek(p) resumes exactly.
//
// Data parallelism. Rank r of R ranks serves rows [r·B/R, (r+1)·B/R) of every batch: together the
// ranks read exactly the batches one process would, and position() counts global batches, so a
// checkpoint written with R ranks resumes with any other count.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "train/data/shard.h"

namespace mone::train {

class TrainLoader {
 public:
  // Opens every shard for rank `rank` of `ranks`. Errors: a bad shard, B or T < 1, B not a
  // multiple of ranks, or fewer than B windows in all.
  static StatusOr<TrainLoader> open(const std::vector<std::string>& paths, int64_t B, int64_t T, uint64_t seed,
                                    int rank = 0, int ranks = 1);

  // Writes this rank's rows of the next batch: inputs and targets are caller-owned int32 buffers
  // of rows()·T, row-major [rows(), T]. Advances position() by one.
  Status next(int32_t* inputs, int32_t* targets);

  // Batches served so far (over all epochs). After seek(p), next() serves the batch a fresh
  // loader would serve as its (p+1)-th.
  uint64_t position() const { return position_; }
  Status seek(uint64_t position);

  int64_t batch_size() const { return B_; }  // the global batch
  int64_t rows() const { return rows_; }      // this rank's share: B / ranks
  int64_t seq_len() const { return T_; }
  uint64_t seed() const { return seed_; }
  int64_t num_windows() const { return window_offsets_.back(); }
  int64_t batches_per_epoch() const { return num_windows() / B_; }
  uint64_t epoch() const { return position_ / static_cast<uint64_t>(batches_per_epoch()); }  // of the next batch
  const std::vector<TokenShard>& shards() const { return shards_; }

  // Every shard's check_max_token: run once before training so a bad id is an error, not a crash.
  Status check_max_token(int64_t vocab_size) const;

  // Global window w -> (shard index, first token); exposed for tests and analysis.
  std::pair<int64_t, int64_t> window_location(int64_t w) const;
  // The global window indices epoch e visits, in order (all of them, the skipped tail included).
  std::vector<int64_t> epoch_order(uint64_t epoch) const;

 private:
  TrainLoader() = default;

  std::vector<TokenShard> shards_;
  std::vector<int64_t> window_offsets_;  // shard i holds global windows [offsets[i], offsets[i+1])
  int64_t B_ = 0;
  int64_t T_ = 0;
  int64_t first_row_ = 0, rows_ = 0;  // this rank's rows of each batch
  uint64_t seed_ = 0;
  uint64_t position_ = 0;
  std::vector<int64_t> order_;  // epoch_order(order_epoch_), cached
  uint64_t order_epoch_ = 0;
  bool have_order_ = false;
};

}  // namespace mone::train

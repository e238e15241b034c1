// The evaluation reader: llm.c's sequential order, no shuffling, so every eval sees the same tokens.
//
// The shards are read as one concatenated stream of tokens. Batch j is tokens [j·B·T, (j+1)·B·T]
// (B·T+1 tokens, crossing shard boundaries where they fall): inputs are the first B·T as [B, T],
// targets the same B·T shifted by one token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/data/shard.h"

namespace mone::train {

class EvalReader {
 public:
  // Opens every shard. Errors: a bad shard, B or T < 1, or fewer than B·T+1 tokens in all.
  static StatusOr<EvalReader> open(const std::vector<std::string>& paths, int64_t B, int64_t T);

  // How many full batches fit: the largest n with n·B·T + 1 <= num_tokens().
  int64_t num_batches() const { return (num_tokens() - 1) / (B_ * T_); }
  int64_t num_tokens() const { return token_offsets_.back(); }
  int64_t batch_size() const { return B_; }
  int64_t seq_len() const { return T_; }
  const std::vector<TokenShard>& shards() const { return shards_; }

  // Writes batch j (0 <= j < num_batches()) into caller-owned int32 buffers of B·T each.
  Status read(int64_t j, int32_t* inputs, int32_t* targets) const;

  Status check_max_token(int64_t vocab_size) const;

 private:
  EvalReader() = default;
  // out[k] = token begin + k of the concatenated stream.
  void copy_tokens(int64_t begin, int64_t count, int32_t* out) const;

  std::vector<TokenShard> shards_;
  std::vector<int64_t> token_offsets_;  // shard i holds stream tokens [offsets[i], offsets[i+1])
  int64_t B_ = 0;
  int64_t T_ = 0;
};

}  // namespace mone::train

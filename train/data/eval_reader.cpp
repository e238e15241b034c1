#include "train/data/eval_reader.h"

#include <algorithm>

namespace mone::train {

StatusOr<EvalReader> EvalReader::open(const std::vector<std::string>& paths, int64_t B, int64_t T) {
  EvalReader reader;
  MONE_ASSIGN_OR_RETURN(reader.shards_, open_shards_for_batches("eval reader", paths, B, T));
  reader.B_ = B;
  reader.T_ = T;
  reader.token_offsets_ = {0};
  for (const TokenShard& shard : reader.shards_) {
    reader.token_offsets_.push_back(reader.token_offsets_.back() + shard.size());
  }
  if (reader.num_batches() < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "eval reader: shards %s hold %d tokens; one batch needs B·T+1 = %d·%d+1 = %d tokens", describe_shards(reader.shards_),
        reader.num_tokens(), B, T, B * T + 1));
  }
  return reader;
}

void EvalReader::copy_tokens(int64_t begin, int64_t count, int32_t* out) const {
  // Start in the shard holding `begin`, then walk forward shard by shard.
  int64_t shard = std::upper_bound(token_offsets_.begin(), token_offsets_.end(), begin) - token_offsets_.begin() - 1;
  while (count > 0) {
    MONE_CHECK_LT(shard, static_cast<int64_t>(shards_.size())) << "eval reader read past the last shard";
    const int64_t local = begin - token_offsets_[shard];
    const int64_t n = std::min(count, shards_[shard].size() - local);
    shards_[shard].copy(local, n, out);
    out += n;
    begin += n;
    count -= n;
    ++shard;
  }
}

Status EvalReader::read(int64_t j, int32_t* inputs, int32_t* targets) const {
  if (j < 0 || j >= num_batches()) {
    return absl::OutOfRangeError(absl::StrCat("eval reader: batch ", j, " is outside [0, ", num_batches(), ")"));
  }
  MONE_CHECK(inputs != nullptr && targets != nullptr) << "eval reader: null batch buffer";
  const int64_t n = B_ * T_;
  copy_tokens(j * n, n, inputs);
  copy_tokens(j * n + 1, n, targets);
  return absl::OkStatus();
}

Status EvalReader::check_max_token(int64_t vocab_size) const {
  for (const TokenShard& shard : shards_) MONE_RETURN_IF_ERROR(shard.check_max_token(vocab_size));
  return absl::OkStatus();
}

}  // namespace mone::train

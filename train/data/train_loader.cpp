#include "train/data/train_loader.h"

#include <algorithm>
#include <numeric>

#include "core/rng.h"

namespace mone::train {

namespace {

// Windows of T+1 tokens starting at 0, T, 2T, ... that fit in n tokens: k·T + T + 1 <= n.
int64_t windows_in(int64_t n, int64_t T) { return (n - 1) / T; }

// A uniform integer in [0, bound) from Philox word (key, counter): the top 64 bits of
// bits·bound (Lemire's multiply-shift). Its bias, bound / 2^64, is far below anything observable.
uint64_t uniform_below(uint64_t key, uint64_t counter, uint64_t bound) {
  const auto r = philox4x32(key, counter);
  const uint64_t bits = (static_cast<uint64_t>(r[1]) << 32) | r[0];
  return static_cast<uint64_t>((static_cast<unsigned __int128>(bits) * bound) >> 64);
}

}  // namespace

StatusOr<TrainLoader> TrainLoader::open(const std::vector<std::string>& paths, int64_t B, int64_t T,
                                        uint64_t seed, int rank, int ranks) {
  MONE_CHECK(ranks >= 1 && rank >= 0 && rank < ranks) << "train loader: rank " << rank << " of " << ranks;
  if (B % ranks != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "train loader: batch_size %d does not split over %d ranks: use a multiple of %d", B, ranks, ranks));
  }
  TrainLoader loader;
  MONE_ASSIGN_OR_RETURN(loader.shards_, open_shards_for_batches("train loader", paths, B, T));
  loader.B_ = B;
  loader.T_ = T;
  loader.seed_ = seed;
  loader.rows_ = B / ranks;
  loader.first_row_ = rank * loader.rows_;
  loader.window_offsets_ = {0};
  for (const TokenShard& shard : loader.shards_) {
    loader.window_offsets_.push_back(loader.window_offsets_.back() + windows_in(shard.size(), T));
  }
  if (loader.num_windows() < B) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "train loader: shards %s hold %d windows of T+1 = %d tokens (starting at multiples of T); a batch "
        "needs B = %d windows: at least B·T+1 = %d tokens in one shard, up to B·(T+1) = %d spread over shards",
        describe_shards(loader.shards_), loader.num_windows(), T + 1, B, B * T + 1, B * (T + 1)));
  }
  return loader;
}

std::pair<int64_t, int64_t> TrainLoader::window_location(int64_t w) const {
  MONE_CHECK(w >= 0 && w < num_windows()) << "window " << w << " of " << num_windows();
  // The last offset <= w names the shard.
  const auto it = std::upper_bound(window_offsets_.begin(), window_offsets_.end(), w) - 1;
  const int64_t shard = it - window_offsets_.begin();
  return {shard, (w - *it) * T_};
}

std::vector<int64_t> TrainLoader::epoch_order(uint64_t epoch) const {
  // Each epoch's shuffle has its own Philox key, itself a Philox draw of (seed, epoch): epochs
  // are independent and any one can be rebuilt without replaying the ones before it.
  const auto k = philox4x32(seed_, epoch);
  const uint64_t key = (static_cast<uint64_t>(k[1]) << 32) | k[0];
  // Fisher-Yates: for i = n-1 .. 1, swap slot i with a uniform slot j in [0, i].
  std::vector<int64_t> order(static_cast<size_t>(num_windows()));
  std::iota(order.begin(), order.end(), int64_t{0});
  for (int64_t i = num_windows() - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform_below(key, static_cast<uint64_t>(i), static_cast<uint64_t>(i) + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

Status TrainLoader::next(int32_t* inputs, int32_t* targets) {
  MONE_CHECK(inputs != nullptr && targets != nullptr) << "train loader: null batch buffer";
  const auto per_epoch = static_cast<uint64_t>(batches_per_epoch());
  const uint64_t epoch = position_ / per_epoch;
  const auto j = static_cast<int64_t>(position_ % per_epoch);
  if (!have_order_ || order_epoch_ != epoch) {
    order_ = epoch_order(epoch);
    order_epoch_ = epoch;
    have_order_ = true;
  }
  for (int64_t b = 0; b < rows_; ++b) {
    const auto [shard, start] = window_location(order_[j * B_ + first_row_ + b]);
    shards_[shard].copy(start, T_, inputs + b * T_);
    shards_[shard].copy(start + 1, T_, targets + b * T_);
  }
  ++position_;
  return absl::OkStatus();
}

Status TrainLoader::seek(uint64_t position) {
  // Every position is valid: epochs repeat without end, each with its own order.
  position_ = position;
  return absl::OkStatus();
}

Status TrainLoader::check_max_token(int64_t vocab_size) const {
  for (const TokenShard& shard : shards_) MONE_RETURN_IF_ERROR(shard.check_max_token(vocab_size));
  return absl::OkStatus();
}

}  // namespace mone::train

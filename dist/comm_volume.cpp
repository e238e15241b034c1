#include "dist/comm_volume.h"

#include <numeric>

namespace mone::dist {
namespace {

// Bytes each of g ranks sends in a ring all-reduce of n bytes.
double ring_all_reduce(double n, int g) { return 2.0 * (g - 1) / g * n; }

}  // namespace

StatusOr<CommVolume> communication_volume(const ModelCommShape& s, int ranks, int64_t tokens_per_rank,
                                          int grad_bytes, int activation_bytes) {
  if (ranks < 1 || tokens_per_rank < 1 || grad_bytes < 1 || activation_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat("communication volume: ranks ", ranks, ", tokens per rank ",
                                                   tokens_per_rank, ", bytes ", grad_bytes, "/", activation_bytes,
                                                   ": each must be >= 1"));
  }
  if (s.experts < 1 || s.experts_per_token < 1) {
    return absl::InvalidArgumentError("communication volume: the model has no routed experts");
  }
  CommVolume v;
  v.ranks = ranks;
  v.expert_parallel = std::gcd(static_cast<int>(s.experts), ranks);
  v.expert_replicas = ranks / v.expert_parallel;
  const double ep = v.expert_parallel;
  v.data_parallel_only = ring_all_reduce(static_cast<double>(s.dense_params + s.expert_params) * grad_bytes, ranks);
  v.dense_all_reduce = ring_all_reduce(static_cast<double>(s.dense_params) * grad_bytes, ranks);
  v.expert_all_reduce =
      ring_all_reduce(static_cast<double>(s.expert_params) / ep * grad_bytes, v.expert_replicas);
  v.all_to_all = 4.0 * static_cast<double>(s.expert_layers) * static_cast<double>(tokens_per_rank) *
                 static_cast<double>(s.experts_per_token) * static_cast<double>(s.hidden) * activation_bytes *
                 (ep - 1) / ep;
  return v;
}

}  // namespace mone::dist

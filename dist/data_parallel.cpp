#include "dist/data_parallel.h"

#include <algorithm>

#include "ops/elementwise.h"

namespace mone::dist {
namespace {

// Copies tensors[first, last) into consecutive elements of `flat`, or (out) back out of it.
Status copy_bucket(const Bucket& b, const std::vector<Tensor>& tensors, const Tensor& flat, bool out) {
  int64_t offset = 0;
  for (size_t i = b.first; i < b.last; ++i) {
    const Tensor& t = tensors[i];
    MONE_ASSIGN_OR_RETURN(Tensor piece, flat.slice(0, offset, offset + t.numel()));
    MONE_ASSIGN_OR_RETURN(piece, piece.reshape(t.shape()));
    MONE_RETURN_IF_ERROR(out ? t.copy_from(piece) : piece.copy_from(t));
    offset += t.numel();
  }
  return absl::OkStatus();
}

Status check_like_plan(const std::vector<Tensor>& tensors, const std::vector<Bucket>& plan, const char* what) {
  const size_t n = plan.empty() ? 0 : plan.back().last;
  if (tensors.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", tensors.size(), " tensors, the plan has ", n));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<Bucket> plan_buckets(const std::vector<Tensor>& tensors, int64_t max_bytes, const std::vector<int>& group) {
  std::vector<Bucket> plan;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    const int g = group.empty() ? 0 : group[i];
    const int64_t bytes = t.numel() * static_cast<int64_t>(dtype_size(t.dtype()));
    const bool fits = !plan.empty() && plan.back().dtype == t.dtype() && plan.back().device == t.device() &&
                      plan.back().group == g &&
                      (plan.back().numel * static_cast<int64_t>(dtype_size(t.dtype())) + bytes <= max_bytes);
    if (!fits) plan.push_back({i, i, 0, t.dtype(), t.device(), g});
    plan.back().last = i + 1;
    plan.back().numel += t.numel();
  }
  return plan;
}

std::vector<int> partition_by_size(const std::vector<Tensor>& tensors, int ranks) {
  int64_t total = 0;
  for (const Tensor& t : tensors) total += t.numel();
  std::vector<int> owner;
  int64_t before = 0;
  for (const Tensor& t : tensors) {
    const int64_t middle = before + t.numel() / 2;
    owner.push_back(total == 0 ? 0 : static_cast<int>(std::min<int64_t>(ranks - 1, middle * ranks / total)));
    before += t.numel();
  }
  return owner;
}

StatusOr<DataParallel> DataParallel::create(Communicator& comm, const std::vector<Tensor>& params,
                                            const DataParallelOptions& options) {
  if (options.bucket_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat("data parallel: bucket size ", options.bucket_bytes, " bytes < 1"));
  }
  DataParallel dp;
  dp.comm_ = &comm;
  dp.shard_ = options.shard_optimizer_state;
  dp.owners_ = partition_by_size(params, comm.world_size());
  dp.reduce_plan_ = plan_buckets(params, options.bucket_bytes);
  dp.owner_plan_ = plan_buckets(params, options.bucket_bytes, dp.owners_);
  return dp;
}

StatusOr<Tensor> DataParallel::flat(const Bucket& bucket) {
  if (!scratch_.defined() || scratch_.dtype() != bucket.dtype || scratch_.device() != bucket.device ||
      scratch_.numel() < bucket.numel) {
    MONE_ASSIGN_OR_RETURN(scratch_, Tensor::empty({bucket.numel}, bucket.dtype, bucket.device));
  }
  return scratch_.slice(0, 0, bucket.numel);
}

Status DataParallel::average(const std::vector<Tensor>& grads) {
  if (world_size() == 1) return absl::OkStatus();
  MONE_RETURN_IF_ERROR(check_like_plan(grads, reduce_plan_, "data parallel: average"));
  const double inverse = 1.0 / static_cast<double>(world_size());
  for (const Bucket& b : reduce_plan_) {
    MONE_ASSIGN_OR_RETURN(Tensor buffer, flat(b));
    MONE_RETURN_IF_ERROR(copy_bucket(b, grads, buffer, false));
    MONE_RETURN_IF_ERROR(comm_->all_reduce_sum(buffer));
    MONE_ASSIGN_OR_RETURN(Tensor mean, ops::scale(buffer, inverse));
    MONE_RETURN_IF_ERROR(copy_bucket(b, grads, mean, true));
  }
  return absl::OkStatus();
}

Status DataParallel::broadcast_from_owners(const std::vector<Tensor>& tensors, bool receive) {
  if (world_size() == 1) return absl::OkStatus();
  MONE_RETURN_IF_ERROR(check_like_plan(tensors, owner_plan_, "data parallel: broadcast_from_owners"));
  for (const Bucket& b : owner_plan_) {
    const bool mine = b.group == rank();
    MONE_ASSIGN_OR_RETURN(Tensor buffer, flat(b));
    if (mine) MONE_RETURN_IF_ERROR(copy_bucket(b, tensors, buffer, false));
    MONE_RETURN_IF_ERROR(comm_->broadcast(buffer, b.group));
    if (receive && !mine) MONE_RETURN_IF_ERROR(copy_bucket(b, tensors, buffer, true));
  }
  return absl::OkStatus();
}

}  // namespace mone::dist

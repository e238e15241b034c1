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
  for (const Tensor& p : params) dp.shapes_.push_back(p.shape());
  for (size_t b = 0; b < dp.reduce_plan_.size(); ++b) {
    for (size_t i = dp.reduce_plan_[b].first; i < dp.reduce_plan_[b].last; ++i) dp.bucket_of_.push_back(b);
  }
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
  if (overlapping_) return finish_overlap(grads);
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

Status DataParallel::begin_overlap() {
  if (world_size() == 1) return absl::OkStatus();
  if (overlapping_) {
    return absl::FailedPreconditionError("data parallel: begin_overlap while the last overlapped average is open");
  }
  if (bucket_buffers_.empty()) {
    for (const Bucket& b : reduce_plan_) {
      MONE_ASSIGN_OR_RETURN(Tensor buffer, Tensor::empty({b.numel}, b.dtype, b.device));
      bucket_buffers_.push_back(std::move(buffer));
    }
  }
  noted_.assign(shapes_.size(), Tensor());
  arrived_.assign(shapes_.size(), false);
  missing_.clear();
  for (const Bucket& b : reduce_plan_) missing_.push_back(static_cast<int64_t>(b.last - b.first));
  started_ = 0;
  in_flight_.clear();
  in_flight_.resize(reduce_plan_.size());
  overlapping_ = true;
  return absl::OkStatus();
}

Status DataParallel::grad_ready(size_t i, const Tensor& grad) {
  if (world_size() == 1) return absl::OkStatus();
  if (!overlapping_) return absl::FailedPreconditionError("data parallel: grad_ready before begin_overlap");
  if (i >= shapes_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("data parallel: grad_ready(", i, ") of ", shapes_.size(), " tensors"));
  }
  if (arrived_[i]) return absl::OkStatus();
  const Bucket& b = reduce_plan_[bucket_of_[i]];
  Tensor g = grad;
  if (!g.defined()) {  // nothing reached it: its share of the sum is zero
    MONE_ASSIGN_OR_RETURN(g, Tensor::zeros(shapes_[i], b.dtype).to(b.device));
  } else if (g.shape() != shapes_[i] || g.dtype() != b.dtype || g.device() != b.device) {
    return absl::InvalidArgumentError(absl::StrCat("data parallel: gradient ", i, " is ", g.describe(),
                                                   ", the parameter's shape is ", shape_string(shapes_[i])));
  }
  noted_[i] = std::move(g);
  arrived_[i] = true;
  --missing_[bucket_of_[i]];
  return start_ready_buckets();
}

Status DataParallel::start_bucket(size_t b) {
  const Tensor& buffer = bucket_buffers_[b];
  MONE_RETURN_IF_ERROR(copy_bucket(reduce_plan_[b], noted_, buffer, false));
  for (size_t i = reduce_plan_[b].first; i < reduce_plan_[b].last; ++i) noted_[i] = Tensor();  // packed
  MONE_ASSIGN_OR_RETURN(in_flight_[b], comm_->start_all_reduce_sum(buffer));
  return absl::OkStatus();
}

Status DataParallel::start_ready_buckets() {
  const size_t n = reduce_plan_.size();
  while (started_ < n && missing_[n - 1 - started_] == 0) {
    MONE_RETURN_IF_ERROR(start_bucket(n - 1 - started_));
    ++started_;
  }
  for (auto& pending : in_flight_) {  // let the started ones move on (MPI progresses inside MPI calls)
    if (pending) MONE_RETURN_IF_ERROR(pending->poll().status());
  }
  return absl::OkStatus();
}

Status DataParallel::finish_overlap(const std::vector<Tensor>& grads) {
  // What the backward never reached starts now, in the same fixed order, from the final gradients.
  Status status = absl::OkStatus();
  for (size_t i = 0; i < grads.size() && status.ok(); ++i) {
    if (!arrived_[i]) status = grad_ready(i, grads[i]);
  }
  overlapping_ = false;
  const double inverse = 1.0 / static_cast<double>(world_size());
  for (size_t b = 0; b < reduce_plan_.size() && status.ok(); ++b) {
    status = in_flight_[b]->wait();
    if (!status.ok()) break;
    StatusOr<Tensor> mean = ops::scale(bucket_buffers_[b], inverse);
    status = mean.ok() ? copy_bucket(reduce_plan_[b], grads, *mean, true) : mean.status();
  }
  in_flight_.clear();
  noted_.clear();
  return status;
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

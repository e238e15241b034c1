// Data parallelism on a Communicator (docs/DISTRIBUTED.md): every rank holds the whole model and
// computes the gradients of its own share of each global batch; averaging them makes every rank's
// gradients those of the whole batch, so every rank takes the same optimizer step.
//
// Buckets. The gradients go, in the parameter list's fixed order (every rank issues the same
// collectives), into flat buffers of at most bucket_bytes: consecutive tensors of one dtype and
// device share a bucket; a tensor larger than bucket_bytes gets one of its own. Per bucket: pack
// (copy in), one all_reduce_sum, scale by 1/R, unpack (copy out). One scratch buffer of the
// largest bucket is reused, so the extra memory is one bucket, not a copy of the gradients.
// The all-reduces run after the backward, one bucket after another: there is no overlap with the
// backward (the tape has no per-parameter "gradient ready" hook, and on the CPU every core already
// computes; docs/DISTRIBUTED.md discusses it).
//
// ZeRO-1 (shard_optimizer_state). Rank r owns a contiguous range of the parameter list, the
// ranges balanced by element count (owner(i) = the rank whose share of the running element count
// holds the middle of tensor i). Only the owner keeps a parameter's AdamW moments and updates it;
// then broadcast_from_owners sends every updated parameter to every rank (bucketed per owner).
// Gradients are still all-reduced whole, so every rank computes the same clipping norm.
//
// Shape letters: R ranks.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "dist/communicator.h"

namespace mone::dist {

// Consecutive tensors [first, last) of one list, packed into one flat buffer of `numel` elements.
struct Bucket {
  size_t first = 0, last = 0;
  int64_t numel = 0;
  DType dtype = DType::kF32;
  Device device;
  int group = 0;  // the owner rank for ZeRO-1's buckets; 0 for the all-reduce's
};

// Buckets over `tensors` in order: a new bucket starts when the dtype, the device or group[i]
// changes, or when the next tensor would take the bucket past max_bytes. `group` is empty (one
// group) or one entry per tensor.
std::vector<Bucket> plan_buckets(const std::vector<Tensor>& tensors, int64_t max_bytes,
                                 const std::vector<int>& group = {});

// owner[i] for ZeRO-1: contiguous ranges of the list, balanced by element count (see above).
std::vector<int> partition_by_size(const std::vector<Tensor>& tensors, int ranks);

struct DataParallelOptions {
  int64_t bucket_bytes = int64_t{25} << 20;  // 25 MiB, PyTorch DDP's default
  bool shard_optimizer_state = false;        // ZeRO-1
};

class DataParallel {
 public:
  // `params`: the parameter values in the model's fixed order (their shapes, dtypes and devices
  // fix the buckets). `comm` must outlive this object. Errors: bucket_bytes < 1.
  static StatusOr<DataParallel> create(Communicator& comm, const std::vector<Tensor>& params,
                                       const DataParallelOptions& options);

  Communicator& comm() const { return *comm_; }
  int rank() const { return comm_->rank(); }
  int world_size() const { return comm_->world_size(); }
  bool shards_optimizer_state() const { return shard_; }
  // Whether this rank updates (and keeps the moments of) parameter i: always without ZeRO-1.
  bool owns(size_t i) const { return !shard_ || owners_[i] == rank(); }
  const std::vector<int>& owners() const { return owners_; }
  const std::vector<Bucket>& reduce_buckets() const { return reduce_plan_; }

  // grads[i] = (Σ over ranks of grads[i]) / R, in place. Same shapes, dtypes and devices as the
  // params given to create(), contiguous. R = 1: nothing happens.
  Status average(const std::vector<Tensor>& grads);

  // For every bucket of one owner's tensors: the owner packs its tensors[i], broadcasts, and
  // every rank with `receive` unpacks into its tensors[i]. After a ZeRO-1 update (receive on every
  // rank: each gets the owners' parameters) and to gather the sharded moments on rank 0 for a
  // checkpoint (receive on rank 0 only). tensors[i] must be defined on its owner and on
  // receivers; elsewhere it may be undefined.
  Status broadcast_from_owners(const std::vector<Tensor>& tensors, bool receive);

 private:
  DataParallel() = default;
  // A flat view of `bucket.numel` elements of the scratch buffer, grown as needed.
  StatusOr<Tensor> flat(const Bucket& bucket);

  Communicator* comm_ = nullptr;
  bool shard_ = false;
  std::vector<int> owners_;
  std::vector<Bucket> reduce_plan_, owner_plan_;
  Tensor scratch_;
};

}  // namespace mone::dist

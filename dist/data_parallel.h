// Data parallelism on a Communicator (docs/DISTRIBUTED.md): every rank holds the whole model and
// computes the gradients of its own share of each global batch; averaging them makes every rank's
// gradients those of the whole batch, so every rank takes the same optimizer step.
//
// Buckets. The gradients go, in the parameter list's fixed order (every rank issues the same
// collectives), into flat buffers of at most bucket_bytes: consecutive tensors of one dtype and
// device share a bucket; a tensor larger than bucket_bytes gets one of its own. Per bucket: pack
// (copy in), one all_reduce_sum, scale by 1/R, unpack (copy out). One scratch buffer of the
// largest bucket is reused, so the extra memory is one bucket, not a copy of the gradients.
//
// Overlap with the backward (begin_overlap). The tape names each parameter as soon as its
// gradient is final (autograd/tape.h, the gradient-ready hook); grad_ready(i, grad) notes it, and
// once every tensor of a bucket has arrived the bucket is packed into a buffer of its own and its
// all-reduce started (Communicator::start_all_reduce_sum) while the backward goes on with the
// earlier layers. Buckets start in one fixed order on every rank, the reverse of the plan (the
// backward finishes the last layers first): a bucket that is complete waits for the buckets
// before it in that order. average() then starts what has not started (parameters the backward
// never reached), waits, scales by 1/R and unpacks. The sums are the same as without overlap, bit
// for bit (the same buckets, summed by the same collective). The price: one buffer per bucket, a
// second copy of the gradients, where the blocking path reuses one bucket's scratch.
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
#include <memory>
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
  // params given to create(), contiguous. R = 1: nothing happens. After begin_overlap: finishes
  // the overlapped all-reduces (above); grads[i] is where the mean goes, whatever grad_ready saw.
  Status average(const std::vector<Tensor>& grads);

  // The next backward hands its gradients over through grad_ready; average() finishes. R = 1:
  // nothing happens, here and in grad_ready. Errors: an overlap already begun.
  Status begin_overlap();
  bool overlapping() const { return overlapping_; }
  // Gradient i is final for this step: `grad` (params[i]'s shape, dtype and device; undefined
  // when the backward left it none, which sends zeros). A second call for i is ignored.
  Status grad_ready(size_t i, const Tensor& grad);

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
  // Overlap: packs bucket b from the gradients noted so far and starts its all-reduce.
  Status start_bucket(size_t b);
  // Starts, in the fixed order, every bucket whose turn has come and that is complete.
  Status start_ready_buckets();
  Status finish_overlap(const std::vector<Tensor>& grads);

  Communicator* comm_ = nullptr;
  bool shard_ = false;
  std::vector<int> owners_;
  std::vector<Bucket> reduce_plan_, owner_plan_;
  Tensor scratch_;

  // Overlap state, for one backward at a time.
  bool overlapping_ = false;
  std::vector<Shape> shapes_;            // the params' shapes
  std::vector<size_t> bucket_of_;        // tensor -> its bucket in reduce_plan_
  std::vector<Tensor> noted_;            // the gradients grad_ready saw
  std::vector<bool> arrived_;            // per tensor
  std::vector<int64_t> missing_;         // per bucket: tensors yet to arrive
  size_t started_ = 0;                   // buckets started, from the plan's end
  std::vector<Tensor> bucket_buffers_;   // one per bucket, made at the first overlap
  std::vector<std::unique_ptr<PendingCollective>> in_flight_;  // per bucket
};

}  // namespace mone::dist

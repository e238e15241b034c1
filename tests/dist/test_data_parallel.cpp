// DataParallel's plans: gradient buckets in the list's order (broken by dtype, owner and size),
// ZeRO-1's contiguous, size-balanced ownership; and with one process every operation is the identity.
#include <doctest/doctest.h>

#include "dist/data_parallel.h"

namespace mone::dist {
namespace {

std::vector<size_t> firsts(const std::vector<Bucket>& plan) {
  std::vector<size_t> out;
  for (const Bucket& b : plan) out.push_back(b.first);
  return out;
}

// Rank 0 of 2 whose peer's gradients are all 1: a sum adds 1 to every element. Started sums
// are logged (the bucket's size and what was packed) and add their 1 only when waited for.
class FakePeer final : public Communicator {
 public:
  struct Started {
    int64_t numel;
    std::vector<double> packed;
  };
  std::vector<Started> started;
  int blocking_sums = 0;

  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  std::string backend() const override { return "fake"; }
  Status all_reduce_sum(const Tensor& buffer) override {
    ++blocking_sums;
    return add_peer(buffer);
  }
  StatusOr<std::unique_ptr<PendingCollective>> start_all_reduce_sum(const Tensor& buffer) override {
    started.push_back({buffer.numel(), buffer.to_vector<double>()});
    return std::unique_ptr<PendingCollective>(std::make_unique<Pending>(buffer));
  }
  Status broadcast(const Tensor&, int) override { return absl::OkStatus(); }
  Status barrier() override { return absl::OkStatus(); }
  Status all_to_all(const Tensor&, const Tensor&) override { return absl::OkStatus(); }
  [[noreturn]] void abort(int code) override { std::exit(code); }

 private:
  static Status add_peer(const Tensor& buffer) {
    float* p = buffer.data<float>();
    for (int64_t i = 0; i < buffer.numel(); ++i) p[i] += 1;
    return absl::OkStatus();
  }
  struct Pending final : PendingCollective {
    explicit Pending(Tensor b) : buffer(std::move(b)) {}
    StatusOr<bool> poll() override { return done; }
    Status wait() override {
      if (!done) MONE_RETURN_IF_ERROR(add_peer(buffer));
      done = true;
      return absl::OkStatus();
    }
    Tensor buffer;
    bool done = false;
  };
};

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

TEST_SUITE("unit") {
  TEST_CASE("overlap: buckets start in reverse plan order as they complete; the means equal the blocking path's") {
    // f32 tensors of 3, 2, 4 and 2 elements, buckets of at most 20 bytes: {0, 1}, {2}, {3}.
    auto make = [] {
      return std::vector<Tensor>{value_or_die(Tensor::from_vector<float>({1, 2, 3}, {3})),
                                 value_or_die(Tensor::from_vector<float>({4, 5}, {2})),
                                 value_or_die(Tensor::from_vector<float>({6, 7, 8, 9}, {2, 2})),
                                 value_or_die(Tensor::from_vector<float>({10, 11}, {2}))};
    };
    FakePeer peer;
    std::vector<Tensor> grads = make();
    auto dp = DataParallel::create(peer, grads, {20, false});
    REQUIRE(dp.ok());
    REQUIRE(dp->reduce_buckets().size() == 3);
    CHECK_FALSE(dp->grad_ready(0, grads[0]).ok());  // before begin_overlap
    REQUIRE(dp->begin_overlap().ok());
    CHECK(dp->overlapping());
    CHECK_FALSE(dp->begin_overlap().ok());  // one at a time

    // Bucket {2} completes first but waits for {3}, the first in the fixed order.
    REQUIRE(dp->grad_ready(2, grads[2]).ok());
    CHECK(peer.started.empty());
    REQUIRE(dp->grad_ready(1, grads[1]).ok());
    CHECK(peer.started.empty());
    REQUIRE(dp->grad_ready(3, grads[3]).ok());  // {3} and then {2} start
    REQUIRE(peer.started.size() == 2);
    CHECK(peer.started[0].packed == std::vector<double>{10, 11});
    CHECK(peer.started[1].packed == std::vector<double>{6, 7, 8, 9});
    REQUIRE(dp->grad_ready(3, grads[3]).ok());  // a second call changes nothing
    CHECK(peer.started.size() == 2);
    CHECK_FALSE(dp->grad_ready(4, grads[0]).ok());
    CHECK_FALSE(dp->grad_ready(0, Tensor::zeros({4})).ok());  // wrong shape

    // Tensor 0 never arrives: average starts its bucket from the final gradients.
    REQUIRE(dp->average(grads).ok());
    CHECK_FALSE(dp->overlapping());
    REQUIRE(peer.started.size() == 3);
    CHECK(peer.started[2].packed == std::vector<double>{1, 2, 3, 4, 5});
    CHECK(peer.blocking_sums == 0);
    // (g + 1) / 2 everywhere, as the blocking path computes it.
    std::vector<Tensor> blocking = make();
    REQUIRE(dp->average(blocking).ok());
    CHECK(peer.blocking_sums == 3);
    for (size_t i = 0; i < grads.size(); ++i) CHECK(values(grads[i]) == values(blocking[i]));
    CHECK(values(grads[0]) == std::vector<double>{1, 1.5, 2});

    // A gradient the backward left undefined counts as zeros; the buffers are reused next step.
    std::vector<Tensor> next = make();
    REQUIRE(dp->begin_overlap().ok());
    REQUIRE(dp->grad_ready(3, Tensor()).ok());
    REQUIRE(dp->average(next).ok());
    CHECK(peer.started.size() == 6);
    CHECK(peer.started[3].packed == std::vector<double>{0, 0});
    CHECK(values(next[3]) == std::vector<double>{0.5, 0.5});
    CHECK(values(next[2]) == std::vector<double>{3.5, 4, 4.5, 5});
  }

  TEST_CASE("buckets: consecutive tensors up to max_bytes; a bigger tensor alone; dtype and group changes split") {
    // f32 sizes in bytes: 40, 40, 400, 8, 8 (f64 [1]), 40.
    const std::vector<Tensor> ts = {Tensor::zeros({10}), Tensor::zeros({2, 5}), Tensor::zeros({100}),
                                    Tensor::zeros({2}), Tensor::zeros({1}, DType::kF64), Tensor::zeros({10})};
    const auto plan = plan_buckets(ts, 100);
    CHECK(firsts(plan) == std::vector<size_t>{0, 2, 3, 4, 5});
    REQUIRE(plan.size() == 5);
    CHECK(plan[0].last == 2);
    CHECK(plan[0].numel == 20);   // 80 bytes <= 100
    CHECK(plan[1].numel == 100);  // 400 bytes: alone, over the limit
    CHECK(plan[3].dtype == DType::kF64);
    CHECK(plan.back().last == ts.size());
    // Everything fits in one bucket of 1 KiB but the dtype change.
    CHECK(firsts(plan_buckets(ts, 1024)) == std::vector<size_t>{0, 4, 5});
    // Owners split too.
    CHECK(firsts(plan_buckets(ts, 1024, {0, 0, 1, 1, 1, 1})) == std::vector<size_t>{0, 2, 4, 5});
  }

  TEST_CASE("ZeRO-1 owners: contiguous ranges balanced by element count") {
    // Elements 10, 10, 10, 10: two ranks own two tensors each.
    std::vector<Tensor> even(4, Tensor::zeros({10}));
    CHECK(partition_by_size(even, 2) == std::vector<int>{0, 0, 1, 1});
    CHECK(partition_by_size(even, 4) == std::vector<int>{0, 1, 2, 3});
    // 100, 1, 1, 1, 97 (total 200): the big first tensor's middle (50) lies in rank 0's half,
    // the small ones' (100..102) in rank 1's, as does the last one's (151).
    const std::vector<Tensor> skewed = {Tensor::zeros({100}), Tensor::zeros({1}), Tensor::zeros({1}),
                                        Tensor::zeros({1}), Tensor::zeros({97})};
    CHECK(partition_by_size(skewed, 2) == std::vector<int>{0, 1, 1, 1, 1});
    CHECK(partition_by_size(skewed, 1) == std::vector<int>{0, 0, 0, 0, 0});
    // More ranks than tensors: some own nothing (middles 2 and 6 of 8 fall to ranks 1 and 3).
    CHECK(partition_by_size({Tensor::zeros({4}), Tensor::zeros({4})}, 4) == std::vector<int>{1, 3});
  }

  TEST_CASE("one process: average and broadcast_from_owners change nothing; this rank owns everything") {
    auto comm = single_process_communicator();
    std::vector<Tensor> params = {Tensor::full({3}, 2.0), Tensor::full({2, 2}, -1.0)};
    auto dp = DataParallel::create(*comm, params, {16, true});
    REQUIRE(dp.ok());
    CHECK(dp->owns(0));
    CHECK(dp->owns(1));
    CHECK(dp->reduce_buckets().size() == 2);  // 12 and 16 bytes do not share 16
    REQUIRE(dp->average(params).ok());
    REQUIRE(dp->broadcast_from_owners(params, true).ok());
    CHECK(params[0].to_vector<double>() == std::vector<double>{2, 2, 2});
    CHECK(params[1].to_vector<double>() == std::vector<double>{-1, -1, -1, -1});
    CHECK_FALSE(DataParallel::create(*comm, params, {0, false}).ok());
  }
}

}  // namespace
}  // namespace mone::dist

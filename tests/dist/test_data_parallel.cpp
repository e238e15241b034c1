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

TEST_SUITE("unit") {
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

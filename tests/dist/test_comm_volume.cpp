// The communication-volume arithmetic of dist/comm_volume.h against numbers worked by hand.
#include <doctest/doctest.h>

#include "dist/comm_volume.h"

namespace mone::dist {
namespace {

// P_dense 1000, P_exp 16000 (E = 16), L = 2, d = 4, K = 2; N = 10 tokens; f32 gradients, bf16 activations.
constexpr ModelCommShape kShape = {1000, 16000, 2, 4, 16, 2};

TEST_SUITE("unit") {
  TEST_CASE("8 ranks: EP = 8, each expert on one rank, no expert all-reduce") {
    auto v = communication_volume(kShape, 8, 10, 4, 2);
    REQUIRE(v.ok());
    CHECK(v->expert_parallel == 8);
    CHECK(v->expert_replicas == 1);
    CHECK(v->data_parallel_only == doctest::Approx(2.0 * 7 / 8 * 17000 * 4));  // 119000
    CHECK(v->dense_all_reduce == doctest::Approx(7000));                      // 2·7/8·4000
    CHECK(v->expert_all_reduce == 0);
    CHECK(v->all_to_all == doctest::Approx(4.0 * 2 * 10 * 2 * 4 * 2 * 7 / 8));  // 1120
    CHECK(v->expert_parallel_total() == doctest::Approx(8120));
  }

  TEST_CASE("64 ranks: EP = 16, each expert on 4 replicas that all-reduce its gradient") {
    auto v = communication_volume(kShape, 64, 10, 4, 2);
    REQUIRE(v.ok());
    CHECK(v->expert_parallel == 16);
    CHECK(v->expert_replicas == 4);
    CHECK(v->dense_all_reduce == doctest::Approx(7875));    // 2·63/64·4000
    CHECK(v->expert_all_reduce == doctest::Approx(6000));   // 2·3/4·(16000/16)·4
    CHECK(v->all_to_all == doctest::Approx(1200));          // 1280·15/16
    CHECK(v->data_parallel_only == doctest::Approx(133875));
  }

  TEST_CASE("one rank sends nothing; 3 ranks and 16 experts share no divisor: experts are replicated") {
    auto one = communication_volume(kShape, 1, 10, 4, 2);
    REQUIRE(one.ok());
    CHECK(one->data_parallel_only == 0);
    CHECK(one->expert_parallel_total() == 0);
    auto three = communication_volume(kShape, 3, 10, 4, 2);
    REQUIRE(three.ok());
    CHECK(three->expert_parallel == 1);
    CHECK(three->all_to_all == 0);
    CHECK(three->expert_all_reduce == doctest::Approx(2.0 * 2 / 3 * 64000));
  }

  TEST_CASE("bad arguments are errors") {
    CHECK_FALSE(communication_volume(kShape, 0, 10, 4, 2).ok());
    CHECK_FALSE(communication_volume(kShape, 8, 0, 4, 2).ok());
    CHECK_FALSE(communication_volume({1000, 0, 2, 4, 0, 0}, 8, 10, 4, 2).ok());
  }
}

}  // namespace
}  // namespace mone::dist

// LoadStats sums each step's expert and neuron counts on their device and reads them back only
// when asked: the totals must be the sums over the steps, through any mix of adds and reads.
#include <doctest/doctest.h>

#include "train/load_stats.h"

namespace mone::train {
namespace {

models::FfnAux layer(std::vector<int64_t> tokens, std::vector<int64_t> neurons) {
  models::FfnAux a;
  const int64_t E = static_cast<int64_t>(tokens.size());
  a.tokens_per_expert = value_or_die(Tensor::from_vector(tokens, {E}));
  a.neuron_counts = value_or_die(Tensor::from_vector(neurons, {E, static_cast<int64_t>(neurons.size()) / E}));
  return a;
}

TEST_SUITE("unit") {

TEST_CASE("LoadStats: totals over steps, for every MoE layer, dense layers skipped") {
  LoadStats s;
  CHECK(s.empty());
  const std::vector<models::FfnAux> step1{layer({3, 1}, {2, 1, 0, 1, 0, 1}), models::FfnAux{},
                                          layer({0, 4}, {0, 0, 0, 4, 4, 0})};
  const std::vector<models::FfnAux> step2{layer({2, 2}, {1, 1, 0, 0, 2, 0}), models::FfnAux{},
                                          layer({1, 3}, {1, 0, 1, 2, 2, 2})};
  REQUIRE(s.add(step1).ok());
  CHECK_FALSE(s.empty());
  REQUIRE(s.add(step2).ok());
  CHECK(s.expert_load_json().dump() == "[[5,3],[1,7]]");
  // A read in the middle of a window, then more steps: nothing counted twice or lost.
  REQUIRE(s.add(step1).ok());
  const nlohmann::json counts = s.counts_json();
  CHECK(counts["tokens"].dump() == "[[8,4],[1,11]]");
  CHECK(counts["neurons"].dump() == "[[[5,3,0],[2,2,2]],[[1,0,1],[10,10,2]]]");
  // Layer 0: rates over (e, j) = counts / tokens_e; neurons with no selection are inactive.
  const auto neuron = s.neuron_load_json();
  CHECK(neuron[0]["active_fraction"].get<double>() == doctest::Approx(5.0 / 6));
  CHECK(neuron[0]["max_rate"].get<double>() == doctest::Approx(5.0 / 8));  // neuron (0, 0): 5 of 8 tokens
  CHECK(neuron[0]["mean_rate"].get<double>() == doctest::Approx((5.0 / 8 + 3.0 / 8 + 0 + 3 * 0.5) / 6));
  s.reset();
  CHECK(s.expert_load_json().dump() == "[[0,0],[0,0]]");
  // A step whose MoE layers differ in number is a bug of the caller, reported.
  REQUIRE(s.add(step1).ok());
  CHECK_FALSE(s.add({layer({1, 1}, {1, 1, 0, 0, 0, 1})}).ok());
}

}  // TEST_SUITE
}  // namespace
}  // namespace mone::train

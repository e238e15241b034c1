// The MoNE expert op on CUDA selects neurons by |G| only: any other selector (ops/op_types.h
// NeuronSelector) is refused by name, forward and backward, before anything is launched. Without
// a GPU the case says so and checks that CUDA tensors fail cleanly.
// Shape letters: R rows, d model width, D expert width, K_N neurons kept.
#include <doctest/doctest.h>

#include <string>

#include "ops/mone_ffn.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("mone_ffn on CUDA refuses every selector but abs_gate, naming it") {
  if (skip_without_gpu()) return;
  const int64_t R = 4, d = 8, D = 16;
  const Tensor x = to_gpu(random({R, d}, 1)), wg = to_gpu(random({D, d}, 2)), wu = to_gpu(random({D, d}, 3));
  const Tensor wd = to_gpu(random({d, D}, 4));
  for (ops::NeuronSelector sel : {ops::NeuronSelector::kSignedGate, ops::NeuronSelector::kAbsGateTimesUp,
                                  ops::NeuronSelector::kAbsGateThreshold}) {
    const ops::MoneFfnConfig c{4, ops::Activation::kSilu, ops::MoneStrategy::kGathered, ops::TopkBackward::kHard, sel};
    const Status s = ops::mone_ffn_forward(x, Tensor(), wg, wu, wd, c).status();
    CAPTURE(s.message());
    CHECK(absl::IsUnimplemented(s));
    CHECK(std::string(s.message()).find(ops::neuron_selector_name(sel)) != std::string::npos);
    CHECK(std::string(s.message()).find("CPU only") != std::string::npos);
  }
}

}  // TEST_SUITE("cuda")

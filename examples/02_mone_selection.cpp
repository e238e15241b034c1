// Example 2: one MoNE expert on a handful of tokens — which neurons are kept, and why, and which
// weights receive gradient under each top-k estimator.
//
// MONE.md: G = act(W_gate x) over all D neurons; each token keeps the K_N neurons with the largest
// |G| (ties to the lower index) and computes up and down for those alone. The backward through
// that selection is either HARD (only kept neurons get gradient) or STRAIGHT_THROUGH (the mask is
// the identity in the backward, so every row of W_up gets gradient — but W_down's unkept columns
// still get none, because their h was 0 in the forward).
//
//   build/bin/example_02_mone_selection
#include <cstdio>

#include "core/rng.h"
#include "ops/mone_ffn.h"

using namespace mone;

namespace {
constexpr int64_t kTokens = 3, kD = 4, kNeurons = 8, kKept = 3;  // T, d, D, K_N

// How many rows of a [D, d] weight gradient (or columns of a [d, D] one) are not all zero.
int64_t rows_touched(const Tensor& g, bool columns) {
  int64_t n = 0;
  for (int64_t j = 0; j < kNeurons; ++j) {
    bool any = false;
    for (int64_t c = 0; c < kD; ++c) any |= read_as_double(g, columns ? c * kNeurons + j : j * kD + c) != 0.0;
    n += any;
  }
  return n;
}
}  // namespace

int main() {
  Generator gen(7);
  const Tensor x = randn({kTokens, kD}, DType::kF64, gen);
  const Tensor w_gate = randn({kNeurons, kD}, DType::kF64, gen), w_up = randn({kNeurons, kD}, DType::kF64, gen);
  const Tensor w_down = randn({kD, kNeurons}, DType::kF64, gen);

  // One expert over all rows: no offsets, 2-D weights. (A MoE layer passes every expert's rows
  // with their offsets and stacked [E, D, d] weights to the same op.)
  ops::MoneFfnConfig config{kKept, ops::Activation::kSilu, ops::MoneStrategy::kGathered, ops::TopkBackward::kHard};
  const ops::MoneFfnForward f = value_or_die(ops::mone_ffn_forward(x, Tensor(), w_gate, w_up, w_down, config));

  for (int64_t t = 0; t < kTokens; ++t) {
    std::printf("token %lld: G =", static_cast<long long>(t));
    for (int64_t j = 0; j < kNeurons; ++j) std::printf(" %+.3f", read_as_double(f.g, t * kNeurons + j));
    std::printf("\n         kept (largest |G|):");
    for (int64_t k = 0; k < kKept; ++k) {
      const int64_t j = static_cast<int64_t>(read_as_double(f.idx, t * kKept + k));
      std::printf(" %lld (|G| %.3f)", static_cast<long long>(j), std::abs(read_as_double(f.g, t * kNeurons + j)));
    }
    std::printf("\n");
  }

  // The same upstream gradient under both estimators.
  const Tensor dy = randn({kTokens, kD}, DType::kF64, gen);
  for (ops::TopkBackward estimator : {ops::TopkBackward::kHard, ops::TopkBackward::kStraightThrough}) {
    config.estimator = estimator;
    const ops::MoneFfnGrads g =
        value_or_die(ops::mone_ffn_backward(dy, Tensor(), x, Tensor(), w_gate, w_up, w_down, f, config));
    std::printf("%-16s neurons whose W_up row gets gradient: %lld of %lld; W_down column: %lld; W_gate row: %lld\n",
                estimator == ops::TopkBackward::kHard ? "HARD:" : "STRAIGHT_THROUGH:",
                static_cast<long long>(rows_touched(g.grad_w_up, false)), static_cast<long long>(kNeurons),
                static_cast<long long>(rows_touched(g.grad_w_down, true)),
                static_cast<long long>(rows_touched(g.grad_w_gate, false)));
  }
  return 0;
}

// The enums that name what an op computes: one set, shared by the CPU kernels (ops/cpu/), the
// CUDA launchers (cuda/) and the callers. A plain header with no includes, so that cuda/ can use
// it too (the one header of ops/ that cuda/ sees).
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
//
// models/ maps the spec's strings ("silu", "hard", "masked_dense", "normalized") onto them.
#pragma once

namespace mone::ops {

// Elementwise binary arithmetic (ops/elementwise.h).
enum class BinaryOp { kAdd, kSub, kMul };

// An activation: the expert's gate G = act(W_gate x), and ops/activation.h.
enum class Activation {
  kSilu,     // silu(a) = a · σ(a); the default, SwiGLU
  kSigmoid,  // σ(a) = 1 / (1 + e^-a); G is then always positive
};

// How gradient passes through the neuron top-k selection I (MONE.md, "Backward through the
// neuron top-k").
enum class TopkBackward {
  kHard,             // only selected neurons get gradient (the paper's; the true gradient)
  kStraightThrough,  // the mask is the identity in the backward: every neuron gets dh
};

// How the MoNE expert evaluates up and down (MONE.md, "Two execution strategies").
enum class MoneStrategy {
  kMaskedDense,  // dense up GEMM over all D neurons, zero the unselected h, dense down GEMM
  kGathered,     // read only the K_N selected rows of W_up and columns of W_down
  kAuto,         // one of the two per call, from K_N/D and the rows per expert (pick_mone_strategy)
};

// How the MoNE expert chooses its K_N neurons per row (MONE.md, "Neuron selectors"). Every
// selector keeps the op's shapes ([R, K_N] selections); none of them carries gradient.
enum class NeuronSelector {
  kAbsGate,           // the K_N largest |G_j| (the paper's; the default)
  kSignedGate,        // the K_N largest G_j (signed: the most positive gates)
  kAbsGateTimesUp,    // the K_N largest |G_j · u_j|, u = W_up x over all D neurons: each neuron's actual output
  kAbsGateThreshold,  // CATS-style: G_j set to 0 where |G_j| < τ (τ: the expert's batch quantile that leaves
                      // T_e·K_N entries of its rows at or above it), then the K_N largest |G_j|
};

// The per-token neuron score q of the neuron-granular load-balance loss.
enum class NeuronLossForm {
  kNormalized,  // q = |G| / Σ|G| (ours, the default: not minimised by shrinking G)
  kRaw,         // q = |G|
};

}  // namespace mone::ops

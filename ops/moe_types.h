// Enums shared by the MoE and MoNE op families (router, dispatch, mone_ffn, losses).
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
//
// They live in ops/ because ops/ may not include proto/ or autograd/; models/ maps the spec's
// strings ("silu", "hard", "masked_dense", "normalized") onto them.
#pragma once

namespace mone::ops {

// The expert's gate activation: G = act(W_gate x).
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
};

// The per-token neuron score q of the neuron-granular load-balance loss.
enum class NeuronLossForm {
  kNormalized,  // q = |G| / Σ|G| (ours, the default: not minimised by shrinking G)
  kRaw,         // q = |G|
};

}  // namespace mone::ops

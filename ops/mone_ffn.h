// The MoNE expert FFN over every routed expert of a layer, in one op (MONE.md, "MoNE forward" and
// "Backward through the neuron top-k"). MoE is the case K_N = D; a dense SwiGLU FFN or a shared
// expert is the case of one expert over all rows.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept per row (1 <= K_N <= D); R routed rows (N·K after the permute), grouped by
//   expert: expert e owns rows [offsets[e], offsets[e+1]), T_e = offsets[e+1] − offsets[e] of them.
//
// Our definition, per row x_t of expert e (W_gate = w_gate[e], W_up = w_up[e], W_down = w_down[e]):
//   a = W_gate x_t                  [D]   always a dense GEMM over all D neurons
//   G = act(a)                      [D]   silu or sigmoid
//   I = the K_N largest |G_j|, ties to the lower index; stored in ascending neuron order
//   u_k = W_up[I_k, :] · x_t        [K_N] only K_N rows of W_up are needed
//   h_k = G_{I_k} · u_k             [K_N] the selected G are used as they are (no renormalising)
//   y_t = Σ_k h_k · W_down[:, I_k]  [d]   only K_N columns of W_down are needed
// K_N = D is exactly the SwiGLU expert W_down (act(W_gate x) ⊙ W_up x).
//
// Selectors (config.selector; MONE.md, "Neuron selectors"); I is always K_N neurons per row:
//   kAbsGate          I = the K_N largest |G_j| (above; the default)
//   kSignedGate       I = the K_N largest G_j
//   kAbsGateTimesUp   I = the K_N largest |G_j · U_j|, U = W_up x_t over all D (a dense GEMM for the
//                     selection alone)
//   kAbsGateThreshold per expert (segment of T_e rows), τ = the (T_e·K_N)-th largest |act(a)| over its
//                     T_e·D entries; G = act(a) where |act(a)| >= τ, else 0 (G is returned so); then
//                     I = the K_N largest |G|. A row with fewer than K_N entries above τ fills its
//                     slots with G = 0 neurons (lowest index first), which add nothing and pass no
//                     gradient: each row uses at most K_N neurons, T_e·K_N on average at most.
//   With K_N = D every selector keeps every neuron (the threshold τ is then the smallest |G|).
//
// Strategies (the numbers agree up to float rounding):
//   kMaskedDense: U = x W_upᵀ for all D (GEMM), H = G ⊙ U with unselected entries zeroed,
//                 y = H W_downᵀ (GEMM). Touches every weight.
//   kGathered:    u by K_N dot products per row, y by a sparse (h, I) × dense W_downᵀ
//                 accumulation. Reads only the selected rows of W_up / columns of W_down.
//   With K_N = D there is nothing to gather: both run masked-dense.
//
// Backward (every gradient is fresh, =; an expert with no rows gets zero weight gradients). With
// dy = grad_y and dG_extra = grad_g_extra (the neuron-balance loss's gradient into G; it reaches
// every neuron, selected or not):
//   HARD, j = I_k:          dh_k = W_down[:, j] · dy,   dW_down[:, j] = Σ_t h_k dy
//                           dG_j = dh_k u_k,  du_k = dh_k G_j   (dG_j = 0 and du_j = 0 for j ∉ I)
//   STRAIGHT_THROUGH, all j: dh_j = W_down[:, j] · dy (the mask is the identity), so it needs the
//                           dense U = x W_upᵀ again: dG_j = dh_j U_j, du_j = dh_j G_j;
//                           dW_down still only gets Σ_t h dy on selected columns (h_j = 0 elsewhere).
//                           Its backward is dense by nature, so both strategies run the same code.
//   then for both:          dW_up[j, :] = Σ_t du_j x_t,   dx = Σ_j du_j W_up[j, :]
//                           da = (dG + dG_extra) ⊙ act'(a),  dW_gate = daᵀ x,  dx += da W_gate
//   kAbsGateThreshold:      G is constant (0) where the threshold cut it: there da = 0 (τ itself,
//                           like the selection, carries no gradient)
// With K_N = D the two estimators coincide.
//
// The offsets are a tensor on the rows' device: nothing here needs them on the host, so a CUDA
// layer runs without reading them back (the CPU kernel reads them in place).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "ops/op_types.h"

namespace mone::ops {

struct MoneFfnConfig {
  int64_t k_n = 0;                                 // K_N, 1 <= K_N <= D
  Activation act = Activation::kSilu;
  MoneStrategy strategy = MoneStrategy::kMaskedDense;  // kAuto: pick_mone_strategy per call
  TopkBackward estimator = TopkBackward::kHard;    // read by the backward only
  NeuronSelector selector = NeuronSelector::kAbsGate;  // CUDA: kAbsGate only
  // kAuto: a backward will follow this forward (training; autograd sets it when it records), so
  // the pick is for forward + backward. The backward must get the same config.
  bool backward_follows = false;
};

// The strategy MoneStrategy::kAuto runs for `rows` routed rows over `experts` experts of width D
// keeping k_n neurons. From the crossover measured on the CPU (docs/PERF.md, "Crossover"): the
// gathered forward wins where segments are short and K_N/D is small (decode, tiny batches); with
// a backward, masked-dense ties or wins at every segment up to 64 rows (at a few rows both are
// bound by writing the dense weight gradients, above that its GEMMs win), so training runs
// masked-dense:
//   K_N = D                                  masked-dense (nothing to gather)
//   backward_follows                         masked-dense
//   K_N/D <= 1/8 and rows/experts <= 16      gathered
//   K_N/D <= 1/4 and rows/experts <= 4       gathered
//   otherwise                                masked-dense
// rows/experts is the mean segment, known from the shapes: the pick reads no offsets, so the
// forward and the backward of one call (same config) pick the same. CUDA uses the same rule until
// a GPU measures its own crossover (bench_cuda).
MoneStrategy pick_mone_strategy(int64_t rows, int64_t experts, int64_t D, int64_t k_n, bool backward_follows = false);

// "abs_gate", "signed_gate", "abs_gate_times_up", "abs_gate_threshold": the spec's and the CLI's names.
const char* neuron_selector_name(NeuronSelector selector);

struct MoneFfnForward {
  Tensor y;    // [R, d]
  Tensor a;    // [R, D] pre-activation W_gate x
  Tensor g;    // [R, D] G = act(a) (kAbsGateThreshold: 0 below the threshold)
  Tensor idx;  // [R, K_N] i32, the selected neurons in ascending order
  Tensor u;    // [R, K_N] W_up[idx] · x
  Tensor h;    // [R, K_N] G[idx] ⊙ u
  // On CUDA with offsets: the offsets [E + 1] i64 on the host, the layer's one device-to-host read
  // of its expert counts, which the backward reuses (undefined otherwise).
  Tensor host_offsets;
  // The strategy this call ran: config.strategy, or what kAuto picked (pick_mone_strategy);
  // masked-dense whenever K_N = D.
  MoneStrategy strategy = MoneStrategy::kMaskedDense;
};

// x [R, d] (R may be 0); offsets [E + 1] i64 with 0 = offsets[0] <= ... <= offsets[E] = R;
// w_gate [E, D, d], w_up [E, D, d], w_down [E, d, D].
// One expert over all rows (a dense FFN, a shared expert): offsets undefined and the weights
// [D, d], [D, d], [d, D].
StatusOr<MoneFfnForward> mone_ffn_forward(const Tensor& x, const Tensor& offsets, const Tensor& w_gate,
                                          const Tensor& w_up, const Tensor& w_down, const MoneFfnConfig& config);

struct MoneFfnGrads {
  Tensor grad_x;       // [R, d]
  Tensor grad_w_gate;  // like w_gate
  Tensor grad_w_up;    // like w_up
  Tensor grad_w_down;  // like w_down
};

// grad_y [R, d] or undefined (only grad_g_extra flows); grad_g_extra [R, D] or undefined.
// `config` must be the forward's (K_N is read from fwd.idx).
StatusOr<MoneFfnGrads> mone_ffn_backward(const Tensor& grad_y, const Tensor& grad_g_extra, const Tensor& x,
                                         const Tensor& offsets, const Tensor& w_gate, const Tensor& w_up,
                                         const Tensor& w_down, const MoneFfnForward& fwd, const MoneFfnConfig& config);

}  // namespace mone::ops

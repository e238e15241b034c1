// The feed-forward half of a block: a dense SwiGLU, or a routed MoE/MoNE layer.
//
// Shape letters: N tokens, d width, E experts, K experts per token, D expert width, K_N neurons
// kept per (token, expert), D_s shared expert width.
#pragma once

#include <memory>
#include <vector>

#include "models/module.h"
#include "ops/mone_ffn.h"
#include "ops/op_types.h"

namespace mone::models {

// What one FFN layer reports besides its output: its auxiliary losses (undefined when absent)
// and its load statistics, as tensors on the model's device (read them only when logging).
struct FfnAux {
  Variable load_balance;   // L_aux of this layer (0-d)
  Variable z_loss;         // L_z
  Variable neuron_loss;    // L_NG (only MoNE with K_N < D)
  Tensor tokens_per_expert;  // [E] i64 (undefined for a dense layer)
  Tensor neuron_counts;      // [E, D] i64: times each neuron was selected
  // What the sparsification and selection studies read (undefined for a dense layer): the gate
  // activations G = act(W_gate x) of every routed row [R = N·K, D], grouped by expert (expert e's
  // rows are [expert_offsets[e], expert_offsets[e + 1]), expert_offsets [E + 1] i64), and the
  // (token, slot) pair of each row, row_pairs [R] i64 = t·K + s.
  Variable gate_activations;
  Tensor expert_offsets;
  Tensor row_pairs;
};

// SwiGLU weights: gate, up [D, d] and down [d, D] for one expert, or stacked [E, D, d] and
// [E, d, D] for a layer's E experts (saved per expert, under `prefix{e}.gate_proj.weight` etc.).
// Drawn expert by expert, gate then up then down, from normal(0, std) (down: out_std).
struct SwigluWeights {
  Variable gate, up, down;
  // One expert: names prefix + "gate_proj.weight" etc.
  SwigluWeights(int64_t d, int64_t width, DType dtype, Generator& gen, double std, double out_std,
                const std::string& prefix);
  // E experts, stacked.
  SwigluWeights(int64_t experts, int64_t d, int64_t width, DType dtype, Generator& gen, double std, double out_std,
                const std::string& prefix);
  void collect(ParameterList& out) const;

 private:
  std::vector<std::string> slice_names(const std::string& kind) const;
  std::string prefix_;
  int64_t experts_ = 0;  // 0: one expert, unstacked
};

struct FfnConfig {
  int64_t d = 0;
  int64_t experts = 0, top_k = 0, width = 0, neuron_topk = 0;  // width: D (or the dense width)
  int64_t shared_experts = 0, shared_width = 0, shared_neuron_topk = 0;
  bool norm_topk_prob = false;
  bool shared_expert_gate = false;  // scale the shared experts' sum by sigmoid(w_g · x)
  ops::Activation act = ops::Activation::kSilu;
  ops::TopkBackward estimator = ops::TopkBackward::kHard;
  ops::MoneStrategy strategy = ops::MoneStrategy::kGathered;
  ops::NeuronLossForm neuron_loss_form = ops::NeuronLossForm::kNormalized;
  // The expert op's configuration with k_n neurons kept.
  ops::MoneFfnConfig expert(int64_t k_n) const { return {k_n, act, strategy, estimator}; }
};

class Ffn {
 public:
  virtual ~Ffn() = default;
  // x [N, d] -> [N, d]; fills *aux when given.
  virtual StatusOr<Variable> forward(const Variable& x, FfnAux* aux) const = 0;
  virtual void collect(ParameterList& out) const = 0;
};

// y = W_down (act(W_gate x) ⊙ W_up x): the MoNE expert op with one expert and K_N = D.
class DenseFfn : public Ffn {
 public:
  DenseFfn(const FfnConfig& c, DType dtype, Generator& gen, double std, double out_std, const std::string& prefix);
  StatusOr<Variable> forward(const Variable& x, FfnAux* aux) const override;
  void collect(ParameterList& out) const override { weights_.collect(out); }

 private:
  FfnConfig config_;
  SwigluWeights weights_;
};

// Router -> dropless dispatch -> every routed expert in one op (MoNE: top-K_N neurons by |G|;
// MoE: K_N = D) -> weighted combine, plus the shared experts (optionally gated: Qwen2-MoE's
// sigmoid(w_g · x) · Σ shared(x)).
class MoeFfn : public Ffn {
 public:
  MoeFfn(const FfnConfig& c, DType dtype, Generator& gen, double std, double out_std, const std::string& prefix);
  StatusOr<Variable> forward(const Variable& x, FfnAux* aux) const override;
  void collect(ParameterList& out) const override;

 private:
  // sigmoid(x · w_gᵀ) [N, 1] times each row of shared [N, d].
  StatusOr<Variable> gate_rows(const Variable& x, const Variable& shared) const;

  FfnConfig config_;
  Variable router_;       // [E, d]: model.layers.{i}.mlp.gate.weight
  SwigluWeights experts_;  // [E, D, d], [E, D, d], [E, d, D]: ...mlp.experts.{e}.{gate,up,down}_proj.weight
  std::vector<SwigluWeights> shared_;
  Variable shared_gate_;  // [1, d]: ...mlp.shared_expert_gate.weight (undefined when off)
};

}  // namespace mone::models

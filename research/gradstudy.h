// The backward through the neuron top-k, measured (docs/RESEARCH.md, "mone gradstudy"). On the
// same batches and the same weights, three gradients of the mean loss over the batches:
//   hard   the model with neuron_topk_backward = HARD (the true gradient of the sparse model)
//   st     ... with STRAIGHT_THROUGH (the top-k mask is the identity in the backward)
//   dense  the same weights with every neuron kept (K_N = D: ffn_type MOE), the gradient of the
//          dense model the MoNE approximates
// and per layer and parameter group (attention, norms, router, experts.gate/up/down,
// shared.gate/up/down; embed, final_norm and lm_head outside the layers):
//   - the norms of the three gradients and their pairwise cosines;
//   - the share of the gradient mass that falls on the selected neurons: per (token, expert) row,
//     with dH = W_downᵀ dy the gradient reaching each neuron's output (dy: the gradient of the
//     experts' output in that pass), U = W_up x and G, the gate gradient dG_j = dH_j U_j and the up
//     gradient du_j = dH_j G_j of EVERY neuron j (what STRAIGHT_THROUGH passes); the share is
//     Σ_{selected} (·)² / Σ_{all} (·)², summed over rows (selected: used, with G != 0, as in analyze). For the dense pass "selected" means the
//     neurons the model's selector would keep (the MoNE op run on the dense pass's rows). HARD
//     keeps exactly the selected part (its gradient mass outside is the share it discards);
//   - how many selections flip after one AdamW step from the checkpoint (its moments when it
//     has them, with the train spec's hyper-parameters and learning rate) under each estimator:
//     tokens whose experts changed, (token, expert) pairs whose neurons changed, neurons swapped.
// For a MoE (K_N = D) the three gradients coincide and nothing is discarded: a check of the tool.
//
// Shape letters: E experts, D expert width, K_N neurons kept.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "research/eval_input.h"
#include "research/selections.h"

namespace mone::research {

struct GradstudyOptions {
  bool ce_only = false;       // the gradient of the CE loss alone (default: the total training loss)
  std::optional<double> lr;   // the step's learning rate (default: the checkpoint's last, else its train spec's);
                              // 0 is allowed: a step that changes nothing (no selection may flip)
};

// The three gradients of one group of parameters.
struct GroupGradients {
  int64_t layer = -1;  // -1: outside the layers
  std::string group;
  double norm_hard = 0, norm_st = 0, norm_dense = 0;
  double cos_hard_st = 0, cos_hard_dense = 0, cos_st_dense = 0;
};

// Index of a pass: hard, straight-through, dense.
enum Pass { kHardPass = 0, kStraightThroughPass = 1, kDensePass = 2 };

struct LayerMass {
  int64_t layer = 0;
  double gate_selected[3] = {0, 0, 0}, gate_all[3] = {0, 0, 0};  // Σ dG² per pass
  double up_selected[3] = {0, 0, 0}, up_all[3] = {0, 0, 0};      // Σ du²
  double gate_share(Pass p) const { return gate_all[p] > 0 ? gate_selected[p] / gate_all[p] : 1.0; }
  double up_share(Pass p) const { return up_all[p] > 0 ? up_selected[p] / up_all[p] : 1.0; }
};

struct LayerFlips {
  int64_t layer = 0;
  SelectionFlips hard, straight_through;
};

struct GradstudyResult {
  std::string checkpoint, selector, loss, dtype, moments;  // moments: "checkpoint" or "fresh"
  int64_t width = 0, neuron_topk = 0, batches = 0, tokens = 0;
  double lr = 0, loss_value = 0;  // the step's learning rate; the mean loss (HARD pass)
  std::vector<GroupGradients> groups;
  std::vector<LayerMass> mass;
  std::vector<LayerFlips> flips;
};

// The group of a parameter name: {layer or -1, group}, e.g. model.layers.3.mlp.experts.up_proj.weight
// -> {3, "experts.up"}, lm_head.weight -> {-1, "lm_head"}.
std::pair<int64_t, std::string> parameter_group(const std::string& name);

StatusOr<GradstudyResult> run_gradstudy(const EvalInput& input, const GradstudyOptions& options);

nlohmann::ordered_json gradstudy_json(const GradstudyResult& r);
std::string gradstudy_table(const GradstudyResult& r);
// DIR/gradstudy.json, gradstudy.csv (the groups) and gradstudy_cosine.svg (each expert group's
// cosine with the dense gradient, per layer, under both estimators).
Status write_gradstudy(const std::string& dir, const GradstudyResult& r);

}  // namespace mone::research

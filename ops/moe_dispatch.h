// Dropless MoE dispatch: a counting sort of the (token, slot) pairs by expert id, the permute
// that gathers token rows into per-expert segments, and the combine that sums them back.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R = N·K routed rows.
//
// Our definition (DESIGN.md, "MoE dispatch is dropless"):
//   pair (t, s) is token t's s-th expert, expert_ids[t, s]; pair p = t·K + s.
//   The counting sort places the pairs expert by expert; inside an expert, ascending token then
//   slot (a stable sort), so row r of the permuted matrix is pair order[r] and
//     x_perm[r] = x[order[r] / K],   slot_row[order[r]] = r,
//   expert e owns rows [offsets[e], offsets[e+1]), counts[e] = offsets[e+1] − offsets[e].
//   combine:  out[t] = Σ_{s=0..K-1} weights[t, s] · y_perm[slot_row[t·K + s]], in slot order.
// No token is dropped and no atomics are used: every sum runs in a fixed order, so results are
// bit-for-bit deterministic. Backward functions return fresh gradients (=).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace mone::ops {

struct DispatchPlan {
  Tensor offsets;   // [E + 1] i64: expert e's rows are [offsets[e], offsets[e + 1])
  Tensor counts;    // [E] i64: rows (tokens) routed to each expert; they sum to N·K
  Tensor order;     // [N·K] i64: row r holds pair order[r] = t·K + s
  Tensor slot_row;  // [N·K] i64: the inverse, pair t·K + s sits at row slot_row[t·K + s]
  int64_t num_tokens = 0;   // N
  int64_t k = 0;            // K
  int64_t num_experts = 0;  // E
};

// expert_ids [N, K] (i32 or i64), every id in [0, num_experts).
StatusOr<DispatchPlan> build_dispatch(const Tensor& expert_ids, int64_t num_experts);

// x [N, d] -> x_perm [N·K, d]: row r is x[order[r] / K].
StatusOr<Tensor> permute(const Tensor& x, const DispatchPlan& plan);
// grad_perm [N·K, d] -> grad_x [N, d]: grad_x[t] = Σ_s grad_perm[slot_row[t·K + s]], in slot order.
StatusOr<Tensor> permute_backward(const Tensor& grad_perm, const DispatchPlan& plan);

// y_perm [N·K, d], weights [N, K] -> out [N, d].
StatusOr<Tensor> combine(const Tensor& y_perm, const Tensor& weights, const DispatchPlan& plan);

struct CombineGrads {
  Tensor grad_y_perm;   // [N·K, d]: row slot_row[t·K + s] = weights[t, s] · grad_out[t]
  Tensor grad_weights;  // [N, K]: y_perm[slot_row[t·K + s]] · grad_out[t]
};
StatusOr<CombineGrads> combine_backward(const Tensor& grad_out, const Tensor& y_perm, const Tensor& weights,
                                        const DispatchPlan& plan);

}  // namespace mone::ops

// Grouped matmul: one GEMM per expert over that expert's contiguous segment of permuted rows.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept;
//   R routed rows (N·K after permute), I in features, O out features (e.g. d and D for an up projection).
//
//   y[r] = W_e · x_perm[r]   for r in [offsets[e], offsets[e+1]),   W_e [O, I] (a Linear weight)
//   grad_x[r] = W_eᵀ · grad_y[r];   grad_W_e = Σ_{r in segment e} grad_y[r] ⊗ x_perm[r]
// The experts' weights come either stacked as one tensor [E, O, I] or as a list of E tensors
// [O, I] (the model's per-expert parameters). Empty segments run no GEMM; their grad_W_e is 0.
// Backward functions return fresh gradients (=).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace mone::ops {

// x_perm [R, I], w [E, O, I], offsets [E + 1] i64 (0 = offsets[0] <= ... <= offsets[E] = R) -> [R, O].
StatusOr<Tensor> grouped_matmul(const Tensor& x_perm, const Tensor& w, const Tensor& offsets);
// The same with the experts' weights as E tensors [O, I].
StatusOr<Tensor> grouped_matmul(const Tensor& x_perm, const std::vector<Tensor>& w, const Tensor& offsets);

struct GroupedMatmulGrads {
  Tensor grad_x;  // [R, I]
  Tensor grad_w;  // [E, O, I]
};
StatusOr<GroupedMatmulGrads> grouped_matmul_backward(const Tensor& grad_y, const Tensor& x_perm, const Tensor& w,
                                                     const Tensor& offsets);

struct GroupedMatmulListGrads {
  Tensor grad_x;               // [R, I]
  std::vector<Tensor> grad_w;  // E tensors [O, I]
};
StatusOr<GroupedMatmulListGrads> grouped_matmul_backward(const Tensor& grad_y, const Tensor& x_perm,
                                                         const std::vector<Tensor>& w, const Tensor& offsets);

}  // namespace mone::ops

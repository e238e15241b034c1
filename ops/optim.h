// Optimizer arithmetic on tensors: the global gradient norm, clipping, and the AdamW update.
//
// Shape letters: none; each parameter with its gradient and moments shares one shape.
// These are not differentiable: they act in place on CPU or CUDA tensors and bump each written
// tensor's storage version (so a backward that saved one of them fails loudly instead of reading
// new values). On CUDA: the norm's per-tensor sums are fixed-order trees (cuda/reduce.h), added in
// tensor order on the host after one copy; AdamW takes f32 (master weights and state).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace mone::ops {

// sqrt(Σ_tensors Σ_i g_i²), accumulated in double. Undefined tensors are skipped.
StatusOr<double> global_grad_norm(const std::vector<Tensor>& grads);

// norm = global_grad_norm(grads); when norm > max_norm, scales every grad in place by
// max_norm / (norm + 1e-6). Returns the norm before clipping. A non-finite norm leaves the grads
// untouched (the caller decides to skip the step). Grads must be contiguous; max_norm > 0.
StatusOr<double> clip_grad_norm(std::vector<Tensor>& grads, double max_norm);

struct AdamWParams {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double grad_scale = 1.0;  // g is multiplied by this first: gradient clipping, fused (the grad is not written)
};

// One AdamW step (Loshchilov & Hutter), step = 1 for the first update, all in place:
//   g = grad_scale · grad
//   param -= lr · wd · param                         (decoupled weight decay)
//   m = β1 m + (1 - β1) g;   v = β2 v + (1 - β2) g²
//   m̂ = m / (1 - β1^step);  v̂ = v / (1 - β2^step)
//   param -= lr · m̂ / (sqrt(v̂) + eps)
// param, m, v: contiguous, one dtype (f32/f64) and shape; grad: same shape, dtype and device.
Status adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWParams& p, int64_t step);

}  // namespace mone::ops

// CUDA launcher for ops/optim.h's AdamW step: one fused pass over param, grad, m and v (f32, the
// master weights and optimizer state), computed in f32 as the CPU's, with clipping fused in. The gradient norm's
// squared sums are cuda/reduce.h's sum_squares; clipping is cuda/elementwise.h's scale.
// Shape letters: n the element count of a parameter (and of its grad, m and v).
#pragma once

#include <cstdint>

#include "cuda/launch.h"

namespace mone::cuda {

// One AdamW step in place; bias1 = 1 - β1^step, bias2 = 1 - β2^step (see ops/optim.h).
cudaError_t adamw_step(float* param, const float* grad, float* m, float* v, int64_t n, double lr, double beta1,
                       double beta2, double eps, double weight_decay, double bias1, double bias2, double grad_scale,
                       cudaStream_t stream);

}  // namespace mone::cuda

// AdamW over a model's parameters: the optimizer state, the data-parallel hook, gradient
// clipping, and the skip of non-finite steps.
//
// One optimizer step (Trainer calls these in order):
//   1. reduce_gradients(params)      the one place data-parallel all-reduce happens
//   2. norm = ‖g‖₂ over all params    clip every g by max_norm / (norm + 1e-6) when norm > max_norm
//                                      (fused into the update: the gradients themselves are not written)
//   3. if loss or norm is not finite: skip (zero the grads, do not count the step)
//   4. AdamW per parameter with its own decay (ops/optim.h has the formulas), step t = 1, 2, ...
//   5. zero the grads
// Weight decay goes to weight matrices only (projections, experts — stacked [E, ...] —, router, lm_head); RMSNorm
// weights and the token embedding are not decayed unless decay_norms_and_embeddings is set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autograd/tape.h"
#include "core/status.h"
#include "dist/data_parallel.h"
#include "models/module.h"
#include "ops/optim.h"
#include "proto/train.pb.h"

namespace mone::train {

// Makes every parameter's gradient defined (zeros for a parameter no token reached) and
// contiguous, then averages it over the data-parallel ranks: THE single place where the
// gradients are all-reduced (bucketed, dist/data_parallel.h). With no `parallel` (one process)
// nothing is reduced. Gradient accumulation over micro-batches happens before this call,
// clipping and the update after it, so adding ranks changes nothing else. Returns the gradients
// in the list's order.
StatusOr<std::vector<Tensor>> reduce_gradients(models::ParameterList& params, dist::DataParallel* parallel);

// Opens an overlapped average (dist/data_parallel.h) and returns the tape's gradient-ready hook
// (autograd/tape.h) for the step's last backward: it hands each parameter's gradient to
// `parallel` the moment the backward has finished it, so its bucket's all-reduce starts while the
// backward goes on; reduce_gradients then finishes the average. Leaves that are not in `params`
// are passed over.
StatusOr<autograd::GradReadyHook> overlap_gradient_reduce(const models::ParameterList& params,
                                                          dist::DataParallel& parallel);

// Whether AdamW decays this parameter: a matrix (2-D, or a stack of them) and not the token embedding, or anything when
// decay_norms_and_embeddings.
bool decays_weight(const models::NamedParameter& p, bool decay_norms_and_embeddings);

struct OptimizerConfig {
  ops::AdamWParams adamw;      // lr is replaced every step by the schedule's value
  double grad_clip = 1.0;      // clip the global L2 norm to this; 0 disables clipping
  bool decay_norms_and_embeddings = false;
  // Data parallelism (not owned; nullptr: one process). With its ZeRO-1 sharding, AdamW keeps m
  // and v only for the parameters this rank owns (the others' exp_avg() entries are undefined),
  // updates only those, and then receives the others from their owners.
  dist::DataParallel* parallel = nullptr;
};

// AdamW's hyper-parameters, clipping and decay rule as a train spec sets them (no data parallelism).
OptimizerConfig optimizer_config(const proto::TrainSpec& spec);

// What one call of AdamW::step did.
struct StepResult {
  double grad_norm = 0;  // before clipping
  bool applied = false;  // false: skipped because the loss or the norm was not finite
};

class AdamW {
 public:
  // State (m and v, zeros, the parameter's dtype: f32 for our models) for every parameter.
  static StatusOr<AdamW> create(const models::ParameterList& params, const OptimizerConfig& config);

  // Steps 1-5 above with learning rate `lr`. `loss` is the step's loss (used only for the
  // finiteness check). A parameter without a gradient (unused this step) is still decayed and
  // moved by its momentum, as in PyTorch with zeroed grads.
  StatusOr<StepResult> step(models::ParameterList& params, double lr, double loss);

  // Updates applied so far (skipped steps do not count); AdamW's bias corrections use step + 1.
  int64_t step_count() const { return step_; }
  void set_step_count(int64_t step) { step_ = step; }

  // Per parameter, in the ParameterList's order.
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<Tensor>& exp_avg() const { return m_; }     // m
  const std::vector<Tensor>& exp_avg_sq() const { return v_; }  // v
  const std::vector<bool>& decayed() const { return decay_; }
  const OptimizerConfig& config() const { return config_; }

  // Copies saved moments in (same names, shapes); errors name `source` and the tensor.
  Status load_state(const std::vector<Tensor>& m, const std::vector<Tensor>& v, int64_t step,
                    const std::string& source);

 private:
  AdamW() = default;
  OptimizerConfig config_;
  std::vector<std::string> names_;
  std::vector<Tensor> m_, v_;
  std::vector<bool> decay_;
  int64_t step_ = 0;
};

// Zeroes every parameter's gradient (drops it; the next backward allocates a fresh one).
void zero_grads(models::ParameterList& params);

}  // namespace mone::train

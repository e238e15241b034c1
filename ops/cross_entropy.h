// Cross-entropy of logits against integer targets, fused with the log-softmax.
//
// Shape letters: N rows (tokens), V vocab (classes).
//   lse_r = log Σ_v exp(logits[r, v])                  (max-subtracted, in double)
//   loss  = (1/C) Σ_{r : t_r ≠ ignore_index} (lse_r - logits[r, t_r])
// where C is the number of rows whose target is not ignore_index; the loss is 0 when C = 0.
// The forward returns lse so the backward needs no second max/sum pass over the logits.
// Targets are i32 or i64; a target outside [0, V) that is not ignore_index is an error naming
// the row and the id. The loss, lse and the loss's gradient are in the logits' accumulation dtype
// (core/dtype.h): f32 for bf16 logits (mixed precision reduces losses in f32), else the logits' own.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

struct CrossEntropyForward {
  Tensor loss;        // 0-d, accumulation_dtype(logits): the mean over the C counted rows
  Tensor lse;         // [N], accumulation_dtype(logits): each row's log-sum-exp (ignored rows included)
  int64_t count = 0;  // C
};

StatusOr<CrossEntropyForward> cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -1);

// grad_logits [N, V] (=) = (softmax(logits) - onehot(t)) · grad_loss / count, with zero rows for
// ignored targets (all zero when count = 0), in the logits' dtype. grad_loss is 0-d in the loss's
// dtype; lse and count come from the forward.
StatusOr<Tensor> cross_entropy_backward(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                                        const Tensor& lse, int64_t ignore_index, int64_t count);

}  // namespace mone::ops

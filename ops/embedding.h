// Embedding lookup: rows of a weight table selected by integer ids.
//
// Shape letters: V vocab (table rows), d width, [...] the ids' shape (N tokens, or B, T).
// Ids are i32 or i64; an id outside [0, V) is an error naming its position, the id and V.
#pragma once

#include "core/tensor.h"

namespace mone::ops {

// out[..., :] = weight[ids[...], :]:  weight [V, d], ids [...] -> out [..., d].
StatusOr<Tensor> embedding(const Tensor& weight, const Tensor& ids);

// grad_weight [V, d] (=): grad_weight[v, :] = Σ_{p : ids[p] = v} grad_out[p, :], zero for unused rows.
// Repeated ids accumulate in position order, on both devices (deterministic: the CPU kernel
// parallelises over d, not over tokens; the CUDA one sorts (id, position) pairs and sums each id's
// rows in order, cuda/embedding.h), so no two threads ever add into one element.
StatusOr<Tensor> embedding_backward(const Tensor& grad_out, const Tensor& ids, int64_t V);

}  // namespace mone::ops

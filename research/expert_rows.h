// A routed layer's stacked expert weights, as the research tools read them to recompute what the
// op does not keep (the dense up projection U = x W_upᵀ of every neuron, the gradient reaching
// each neuron's output dH = dy W_down).
//
// Shape letters: E experts, d model width, D expert width.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "models/transformer.h"

namespace mone::research {

// The model's stacked expert weight "model.layers.{layer}.mlp.experts.{kind}.weight", kind one of
// gate_proj, up_proj ([E, D, d]) or down_proj ([E, d, D]); an error names a missing one.
StatusOr<Tensor> stacked_expert_weight(const models::Transformer& model, int64_t layer, const std::string& kind);

// Expert e's [D, d] or [d, D] slice of a stacked weight (a view).
StatusOr<Tensor> expert_slice(const Tensor& stacked, int64_t e);

}  // namespace mone::research

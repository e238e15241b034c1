// Parameters and their names. Every module lists its parameters under Hugging Face MoE names
// (DESIGN.md), so checkpoints, reference dumps and other frameworks agree on what is what.
//
// A MoE layer's expert weights are stacked, one tensor per kind ([E, D, d] for gate and up,
// [E, d, D] for down), so that one op runs every expert. A checkpoint still holds one tensor per
// expert under its Hugging Face name: a stacked parameter lists those names (slice_names), and
// checkpoint_tensors() hands out its slices as views under them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"

namespace mone::models {

using autograd::Variable;

struct NamedParameter {
  std::string name;
  Variable param;
  // A stacked parameter [E, ...] is saved as E tensors [...]: slice e under slice_names[e].
  // Empty for an ordinary parameter, saved whole under `name`.
  std::vector<std::string> slice_names = {};
};
using NamedTensorList = std::vector<std::pair<std::string, Tensor>>;
using ParameterList = std::vector<NamedParameter>;

// A new parameter [shape] drawn from normal(0, std) with `gen` (std 0 gives zeros, fill 1 gives ones).
Variable normal_parameter(const Shape& shape, DType dtype, Generator& gen, double std, const std::string& name);
Variable constant_parameter(const Shape& shape, DType dtype, double value, const std::string& name);

// The tensors a checkpoint holds for `per_param` (one tensor per parameter, shaped like it: the
// values, the gradients, an optimizer moment), in the list's order, named `name + suffix`; a
// stacked parameter's tensor is split into views named `slice_names[e] + suffix`.
NamedTensorList checkpoint_tensors(const ParameterList& params, const std::vector<Tensor>& per_param,
                                   const std::string& suffix = "");
// The parameters' values under their checkpoint names.
NamedTensorList checkpoint_tensors(const ParameterList& params);

// Copies `tensors[name]` into every destination (views into parameters or optimizer state): each
// must be present with its exact shape (dtype is converted). A tensor of `tensors` that no
// destination names is an error too: nothing is silently lost. Errors name `source`.
Status load_named_tensors(const NamedTensorList& destinations, const std::map<std::string, Tensor>& tensors,
                          const std::string& source);
// load_named_tensors into the parameters' values.
Status load_parameters(const ParameterList& params, const std::map<std::string, Tensor>& tensors,
                       const std::string& source);

int64_t count_parameters(const ParameterList& params);

// The mean of the defined variables (undefined when there are none): how per-layer and
// per-expert loss terms are averaged.
StatusOr<Variable> mean_of(const std::vector<Variable>& terms);

}  // namespace mone::models

// Parameters and their names. Every module lists its parameters under Hugging Face MoE names
// (DESIGN.md), so checkpoints, reference dumps and other frameworks agree on what is what.
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
};
using ParameterList = std::vector<NamedParameter>;

// A new parameter [shape] drawn from normal(0, std) with `gen` (std 0 gives zeros, fill 1 gives ones).
Variable normal_parameter(const Shape& shape, DType dtype, Generator& gen, double std, const std::string& name);
Variable constant_parameter(const Shape& shape, DType dtype, double value, const std::string& name);

// Copies `tensors[name]` into every parameter; every parameter must be present with its exact
// shape (dtype is converted). Unknown names in `tensors` are an error too: nothing is silently lost.
Status load_parameters(const ParameterList& params, const std::map<std::string, Tensor>& tensors,
                       const std::string& source);

int64_t count_parameters(const ParameterList& params);

// The mean of the defined variables (undefined when there are none): how per-layer and
// per-expert loss terms are averaged.
StatusOr<Variable> mean_of(const std::vector<Variable>& terms);

}  // namespace mone::models

// gradcheck: analytic gradients against central differences, in f64.
//
// fn maps the inputs to one output Variable of any shape. The check reduces the output to a
// scalar L = Σ w ⊙ out with fixed random weights w (so every output element and every sign
// matters), runs backward once for the analytic gradient, then for every element x_i of every
// floating input that requires grad evaluates (L(x_i + eps) - L(x_i - eps)) / (2 eps).
#pragma once

#include <functional>
#include <vector>

#include "autograd/variable.h"

namespace mone::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
  uint64_t seed = 1234;  // for the output weights w
};

using GradcheckFn = std::function<StatusOr<Variable>(const std::vector<Variable>& inputs)>;

// OK when every checked gradient element satisfies |analytic - numeric| <= atol + rtol·|numeric|;
// otherwise an error naming the input, the element, both values, and how many elements failed.
// The inputs keep their values and gradients: nothing of the check is left in them.
Status gradcheck(const GradcheckFn& fn, const std::vector<Variable>& inputs, const GradcheckOptions& options = {});

}  // namespace mone::autograd

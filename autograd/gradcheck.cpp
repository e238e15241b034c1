#include "autograd/gradcheck.h"

#include <cmath>

#include "autograd/tape.h"
#include "core/rng.h"

namespace mone::autograd {

namespace {

// L = Σ w ⊙ out, in double.
double weighted_sum(const Tensor& out, const Tensor& w) {
  double s = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i) s += read_as_double(out, i) * read_as_double(w, i);
  return s;
}

}  // namespace

Status gradcheck(const GradcheckFn& fn, const std::vector<Variable>& inputs, const GradcheckOptions& options) {
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Variable& v = inputs[k];
    if (v.requires_grad() && v.dtype() != DType::kF64) {
      return absl::InvalidArgumentError(
          absl::StrCat("gradcheck: input ", k, " is ", v.value().describe(), "; gradcheck runs in f64"));
    }
  }
  // The inputs' values before anything runs: every finite difference starts from these (fn may
  // write perturbed values into shared variables, e.g. a model's parameters).
  std::vector<Tensor> base;
  for (const auto& v : inputs) base.push_back(v.value().clone());
  // Analytic gradients: one backward with seed w. The inputs' own gradients come back afterwards,
  // whatever happens: a gradcheck leaves its inputs as it found them.
  struct KeepGrads {
    std::vector<Variable> vars;
    std::vector<Tensor> grads;
    ~KeepGrads() {
      for (size_t i = 0; i < vars.size(); ++i) vars[i].set_grad(grads[i]);
    }
  } keep{inputs, {}};
  for (const Variable& v : inputs) keep.grads.push_back(v.grad());
  current_tape().clear();
  for (Variable v : inputs) v.zero_grad();  // handles share the variable
  MONE_ASSIGN_OR_RETURN(Variable out, fn(inputs));
  Generator gen(options.seed);
  Tensor w = randn(out.shape(), out.dtype(), gen);
  if (!out.requires_grad()) return absl::InvalidArgumentError("gradcheck: the output does not depend on any input");
  MONE_RETURN_IF_ERROR(backward(out, w));

  // Numeric gradients, input by input, element by element, on fresh copies of the inputs.
  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].requires_grad()) continue;
    const Tensor analytic = inputs[k].has_grad() ? inputs[k].grad() : Tensor::zeros(inputs[k].shape(), DType::kF64);
    const int64_t n = inputs[k].value().numel();
    int64_t failures = 0;
    std::string first_failure;
    for (int64_t i = 0; i < n; ++i) {
      double l[2];
      for (int side = 0; side < 2; ++side) {
        std::vector<Variable> perturbed;
        for (const Tensor& b : base) perturbed.emplace_back(b, false);
        Tensor x = base[k].clone();
        x.data<double>()[i] += side == 0 ? options.eps : -options.eps;
        perturbed[k] = Variable(x, false);
        MONE_ASSIGN_OR_RETURN(Variable o, fn(perturbed));
        l[side] = weighted_sum(o.value(), w);
      }
      const double numeric = (l[0] - l[1]) / (2 * options.eps);
      const double a = read_as_double(analytic, i);
      if (!(std::abs(a - numeric) <= options.atol + options.rtol * std::abs(numeric))) {
        if (failures++ == 0) {
          first_failure = absl::StrFormat("input %d (%s) element %d: analytic %.10g vs numeric %.10g", k,
                                          inputs[k].name().empty() ? "unnamed" : inputs[k].name(), i, a, numeric);
        }
      }
    }
    if (failures > 0) {
      return absl::InternalError(absl::StrCat("gradcheck failed: ", first_failure, " (", failures, " of ", n,
                                              " elements of this input differ)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace mone::autograd

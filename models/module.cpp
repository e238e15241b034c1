#include "models/module.h"

#include <set>

#include "autograd/elementwise.h"

namespace mone::models {

Variable normal_parameter(const Shape& shape, DType dtype, Generator& gen, double std, const std::string& name) {
  Tensor t = randn(shape, dtype, gen, 0.0, std);
  return Variable(std::move(t), true, name);
}

Variable constant_parameter(const Shape& shape, DType dtype, double value, const std::string& name) {
  return Variable(Tensor::full(shape, value, dtype), true, name);
}

Status load_parameters(const ParameterList& params, const std::map<std::string, Tensor>& tensors,
                       const std::string& source) {
  std::set<std::string> used;
  for (const auto& [name, param] : params) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      return absl::NotFoundError(absl::StrCat(source, ": parameter ", name, " is missing"));
    }
    if (it->second.shape() != param.shape()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": parameter ", name, " has shape ",
                                                     shape_string(it->second.shape()), ", the model expects ",
                                                     shape_string(param.shape())));
    }
    MONE_RETURN_IF_ERROR(param.value().copy_from(it->second));
    used.insert(name);
  }
  for (const auto& [name, t] : tensors) {
    if (!used.count(name)) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": tensor ", name, " is not a parameter of this model"));
    }
  }
  return absl::OkStatus();
}

int64_t count_parameters(const ParameterList& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.param.value().numel();
  return n;
}

StatusOr<Variable> mean_of(const std::vector<Variable>& terms) {
  Variable sum;
  int64_t n = 0;
  for (const auto& t : terms) {
    if (!t.defined()) continue;
    if (!sum.defined()) {
      sum = t;
    } else {
      MONE_ASSIGN_OR_RETURN(sum, autograd::add(sum, t));
    }
    ++n;
  }
  if (n <= 1) return sum;
  return autograd::scale(sum, 1.0 / static_cast<double>(n));
}

}  // namespace mone::models

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

NamedTensorList checkpoint_tensors(const ParameterList& params, const std::vector<Tensor>& per_param,
                                   const std::string& suffix) {
  MONE_CHECK_EQ(params.size(), per_param.size()) << "checkpoint_tensors: one tensor per parameter";
  NamedTensorList out;
  for (size_t i = 0; i < params.size(); ++i) {
    const NamedParameter& p = params[i];
    const Tensor& t = per_param[i];
    if (p.slice_names.empty()) {
      out.emplace_back(p.name + suffix, t);
      continue;
    }
    MONE_CHECK_EQ(static_cast<int64_t>(p.slice_names.size()), t.size(0)) << p.name << ": one name per slice";
    Shape slice_shape(t.shape().begin() + 1, t.shape().end());
    for (int64_t e = 0; e < t.size(0); ++e) {
      Tensor slice = value_or_die(value_or_die(t.slice(0, e, e + 1)).reshape(slice_shape), "checkpoint_tensors");
      out.emplace_back(p.slice_names[e] + suffix, std::move(slice));
    }
  }
  return out;
}

NamedTensorList checkpoint_tensors(const ParameterList& params) {
  std::vector<Tensor> values;
  for (const auto& p : params) values.push_back(p.param.value());
  return checkpoint_tensors(params, values);
}

Status load_named_tensors(const NamedTensorList& destinations, const std::map<std::string, Tensor>& tensors,
                          const std::string& source) {
  std::set<std::string> used;
  for (const auto& [name, dst] : destinations) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      return absl::NotFoundError(absl::StrCat(source, ": tensor ", name, " is missing"));
    }
    if (it->second.shape() != dst.shape()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": tensor ", name, " has shape ",
                                                     shape_string(it->second.shape()), ", expected ",
                                                     shape_string(dst.shape())));
    }
    MONE_RETURN_IF_ERROR(dst.copy_from(it->second));
    used.insert(name);
  }
  for (const auto& [name, t] : tensors) {
    if (!used.count(name)) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": tensor ", name, " is not expected here (not a "
                                                     "parameter of this model)"));
    }
  }
  return absl::OkStatus();
}

Status load_parameters(const ParameterList& params, const std::map<std::string, Tensor>& tensors,
                       const std::string& source) {
  return load_named_tensors(checkpoint_tensors(params), tensors, source);
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

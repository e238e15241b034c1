// Variable: a Tensor value, its gradient, and whether it requires one.
//
// Variables are handles: copies share one VariableImpl, so a parameter held by a model and the
// same parameter seen by the optimizer are one object. A Variable made by the user is a leaf;
// one produced by a recorded op is not. backward() accumulates (+=) into leaves' grads, which
// stay until zero_grad(); intermediates' grads are freed once used, unless retain_grad() was called.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"

namespace mone::autograd {

struct VariableImpl {
  Tensor value;
  Tensor grad;  // undefined until a backward reaches this variable
  bool requires_grad = false;
  bool retain_grad = false;
  bool is_leaf = true;
  // The grad tensor belongs to this variable alone (accumulation made it), so a further
  // contribution may be added into it in place. A gradient handed over by a backward may be
  // shared (add's backward gives both inputs one tensor): it is never written.
  bool grad_owned = false;
  std::string name;
};

class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor value, bool requires_grad = false, std::string name = "");

  bool defined() const { return impl_ != nullptr; }
  const Tensor& value() const { return impl_->value; }
  // Replaces the value (the optimizer's update, a checkpoint load). Shape must not change.
  void set_value(Tensor value);
  const Tensor& grad() const { return impl_->grad; }
  bool has_grad() const { return impl_->grad.defined(); }
  void set_grad(Tensor grad) {
    impl_->grad = std::move(grad);
    impl_->grad_owned = false;
  }
  void zero_grad() { set_grad(Tensor()); }

  bool requires_grad() const { return impl_->requires_grad; }
  void set_requires_grad(bool r) { impl_->requires_grad = r; }
  // Keep this intermediate's gradient after backward, for inspection.
  void retain_grad() { impl_->retain_grad = true; }
  bool retains_grad() const { return impl_->retain_grad; }
  bool is_leaf() const { return impl_->is_leaf; }

  const std::string& name() const { return impl_->name; }
  void set_name(std::string n) { impl_->name = std::move(n); }
  const Shape& shape() const { return impl_->value.shape(); }
  DType dtype() const { return impl_->value.dtype(); }
  Device device() const { return impl_->value.device(); }

  // Identity: two handles to one variable compare equal.
  VariableImpl* impl() const { return impl_.get(); }
  bool is_same(const Variable& other) const { return impl_ == other.impl_; }

 private:
  friend class Tape;
  std::shared_ptr<VariableImpl> impl_;
};

}  // namespace mone::autograd

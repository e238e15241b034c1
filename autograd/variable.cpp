#include "autograd/variable.h"

namespace mone::autograd {

Variable::Variable(Tensor value, bool requires_grad, std::string name)
    : impl_(std::make_shared<VariableImpl>()) {
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
  impl_->name = std::move(name);
}

void Variable::set_value(Tensor value) {
  MONE_CHECK(value.shape() == impl_->value.shape())
      << "set_value on " << impl_->name << ": " << value.describe() << " replaces " << impl_->value.describe();
  impl_->value = std::move(value);
}

}  // namespace mone::autograd

// Example 4: writing a new op with its backward and its gradcheck.
//
// The op: softplus(x) = log(1 + e^x), elementwise; its derivative is σ(x). Adding an op to mone
// takes three pieces, the same for every op in ops/ and autograd/:
//   1. the forward and the backward as plain functions of tensors (ops/: check the arguments,
//      allocate the output, switch on the device, run the kernel);
//   2. an autograd wrapper that calls the forward, records one tape entry with the state the
//      backward needs, as a named struct, and whose closure calls the backward;
//   3. a gradcheck against finite differences in f64.
// Here the kernel is a loop over double and float; a CUDA version would be a case of the switch.
//
//   build/bin/example_04_new_op
#include <cmath>
#include <cstdio>

#include "autograd/gradcheck.h"
#include "autograd/reduce.h"
#include "autograd/tape.h"
#include "core/rng.h"
#include "ops/common.h"

using namespace mone;

namespace {

// ---- 1. the op: forward and backward, side by side ---------------------------------------------

// y = log(1 + e^x), written to avoid overflow: max(x, 0) + log1p(e^-|x|).
StatusOr<Tensor> softplus(const Tensor& x_in) {
  MONE_RETURN_IF_ERROR(ops::check_float("softplus", x_in, "x"));
  const Tensor x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor y, ops::new_tensor(x.shape(), x.dtype(), x.device()));
  if (!x.device().is_cpu()) return ops::unsupported_device("softplus", x.device());
  MONE_DISPATCH_FLOAT(x.dtype(), "softplus", {
    const scalar_t* in = x.data<scalar_t>();
    scalar_t* out = y.data<scalar_t>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = std::max(in[i], scalar_t(0)) + std::log1p(std::exp(-std::abs(in[i])));
  });
  return y;
}

// grad_x = grad_y · σ(x)  (the gradient is fresh: =).
StatusOr<Tensor> softplus_backward(const Tensor& grad_y_in, const Tensor& x_in) {
  MONE_RETURN_IF_ERROR(ops::check_float_same_shape("softplus_backward", {{"grad_y", &grad_y_in}, {"x", &x_in}}));
  const Tensor grad_y = grad_y_in.contiguous(), x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor grad_x, ops::new_tensor(x.shape(), x.dtype(), x.device()));
  if (!x.device().is_cpu()) return ops::unsupported_device("softplus_backward", x.device());
  MONE_DISPATCH_FLOAT(x.dtype(), "softplus_backward", {
    const scalar_t *g = grad_y.data<scalar_t>(), *in = x.data<scalar_t>();
    scalar_t* out = grad_x.data<scalar_t>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = g[i] / (scalar_t(1) + std::exp(-in[i]));
  });
  return grad_x;
}

// ---- 2. the autograd wrapper ---------------------------------------------------------------

// What the backward reads, by name. tensors() lists them for the tape's check that nothing
// changed them in place between the forward and the backward.
struct SoftplusSaved {
  Tensor x;
  autograd::NamedTensors tensors() const { return {{"x", x}}; }
};

StatusOr<autograd::Variable> softplus(const autograd::Variable& x) {
  MONE_ASSIGN_OR_RETURN(Tensor y, softplus(x.value()));
  autograd::Variable out(std::move(y));
  autograd::record("softplus", {x}, {out}, SoftplusSaved{x.value()},
                   [](const autograd::TensorList& grads, const SoftplusSaved& s) -> StatusOr<autograd::TensorList> {
                     MONE_ASSIGN_OR_RETURN(Tensor gx, softplus_backward(grads[0], s.x));
                     return autograd::TensorList{gx};  // one gradient per input, in order
                   });
  return out;
}

}  // namespace

int main() {
  // ---- 3. the gradcheck --------------------------------------------------------------------
  Generator gen(3);
  autograd::Variable x(randn({3, 4}, DType::kF64, gen, 0.0, 3.0), true, "x");
  const Status s = autograd::gradcheck([](const std::vector<autograd::Variable>& in) { return softplus(in[0]); }, {x});
  std::printf("gradcheck of softplus: %s\n", s.ok() ? "OK" : s.ToString().c_str());

  // And in use: the tape records it like any built-in op.
  autograd::Variable y = value_or_die(softplus(x));
  autograd::Variable total = value_or_die(autograd::sum(y));
  std::printf("tape:\n%s", autograd::current_tape().to_string().c_str());
  if (Status b = autograd::backward(total); !b.ok()) return std::fprintf(stderr, "%s\n", b.ToString().c_str()), 1;
  const double x0 = read_as_double(x.value(), 0);
  const double tape = read_as_double(x.grad(), 0), by_hand = 1.0 / (1.0 + std::exp(-x0));
  std::printf("d/dx0 of sum(softplus(x)) = %.6f; sigmoid(%.3f) = %.6f\n", tape, x0, by_hand);
  if (std::abs(tape - by_hand) > 1e-12) return 1;

  // A wrong backward is caught: this one forgets the sign of x (σ(|x|) instead of σ(x)).
  auto wrong = [](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
    MONE_ASSIGN_OR_RETURN(Tensor y, softplus(in[0].value()));
    autograd::Variable out(std::move(y));
    autograd::record("softplus_wrong", {in[0]}, {out}, SoftplusSaved{in[0].value()},
                     [](const autograd::TensorList& grads, const SoftplusSaved& s) -> StatusOr<autograd::TensorList> {
                       Tensor abs_x = s.x.clone();
                       for (int64_t i = 0; i < abs_x.numel(); ++i) abs_x.data<double>()[i] = std::abs(abs_x.data<double>()[i]);
                       MONE_ASSIGN_OR_RETURN(Tensor gx, softplus_backward(grads[0], abs_x));
                       return autograd::TensorList{gx};
                     });
    return out;
  };
  const Status caught = autograd::gradcheck(wrong, {x});
  std::printf("gradcheck of a wrong backward: %s\n", caught.ok() ? "OK (it should not be!)" : "caught");
  return s.ok() && !caught.ok() ? 0 : 1;
}

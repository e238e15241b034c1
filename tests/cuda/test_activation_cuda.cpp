// sigmoid, silu and SwiGLU on CUDA (cuda/activation.cu) against the CPU.
#include <doctest/doctest.h>

#include "ops/activation.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: sigmoid, silu and swiglu, forward and backward, match the CPU") {
  if (skip_without_gpu()) return;
  // Wide inputs (std 20) reach where a naive e^-x overflows.
  for (const Shape& shape : {Shape{1}, Shape{33, 65}, Shape{100003}}) {
    INFO("x ", shape_string(shape));
    const Tensor x = random(shape, 1, 20.0), up = random(shape, 2), g = random(shape, 3);
    const Tensor dx = to_gpu(x), dup = to_gpu(up), dg = to_gpu(g);
    const Tensor sig = value_or_die(ops::sigmoid(x));
    check_close("sigmoid", value_or_die(ops::sigmoid(dx)), sig, 1e-5);
    check_close("sigmoid_backward", value_or_die(ops::sigmoid_backward(dg, to_gpu(sig))),
                value_or_die(ops::sigmoid_backward(g, sig)), 1e-5);
    check_close("silu", value_or_die(ops::silu(dx)), value_or_die(ops::silu(x)), 1e-5);
    check_close("silu_backward", value_or_die(ops::silu_backward(dg, dx)), value_or_die(ops::silu_backward(g, x)),
                1e-5);
    check_close("swiglu", value_or_die(ops::swiglu(dx, dup)), value_or_die(ops::swiglu(x, up)), 1e-5);
    const auto gw = value_or_die(ops::swiglu_backward(g, x, up));
    const auto gg = value_or_die(ops::swiglu_backward(dg, dx, dup));
    check_close("swiglu_backward", gg.grad_gate, gw.grad_gate, 1e-5);
    check_close("swiglu_backward", gg.grad_up, gw.grad_up, 1e-5);
  }
  const Tensor x = bf16_rounded(random({999}, 4, 3.0)), up = bf16_rounded(random({999}, 5));
  check_close("swiglu", value_or_die(ops::swiglu(to_gpu(as(x, DType::kBF16)), to_gpu(as(up, DType::kBF16)))),
              value_or_die(ops::swiglu(x, up)), 1.0 / 128);
  check_close("silu", value_or_die(ops::silu(to_gpu(as(x, DType::kBF16)))), value_or_die(ops::silu(x)), 1.0 / 128);
}

}  // TEST_SUITE

// Softmax and log-softmax on CUDA (cuda/softmax.cu) against the CPU.
#include <doctest/doctest.h>

#include "ops/softmax.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: softmax and log_softmax, forward and backward, match the CPU") {
  if (skip_without_gpu()) return;
  // A single element; odd rows; a row longer than the block; large logits (the max is subtracted).
  for (const Shape& shape : {Shape{1}, Shape{5, 3, 7}, Shape{4, 5003}}) {
    for (double stddev : {1.0, 30.0}) {
      INFO("x ", shape_string(shape), " std ", stddev);
      const Tensor x = random(shape, 1, stddev), g = random(shape, 2);
      const Tensor y = value_or_die(ops::softmax(x)), ly = value_or_die(ops::log_softmax(x));
      const Tensor dy = value_or_die(ops::softmax(to_gpu(x))), dly = value_or_die(ops::log_softmax(to_gpu(x)));
      check_close("softmax", dy, y, 1e-5);
      check_close("log_softmax", dly, ly, 1e-5);
      check_close("softmax_backward", value_or_die(ops::softmax_backward(to_gpu(g), dy)),
                  value_or_die(ops::softmax_backward(g, y)), 1e-5);
      check_close("log_softmax_backward", value_or_die(ops::log_softmax_backward(to_gpu(g), dly)),
                  value_or_die(ops::log_softmax_backward(g, ly)), 1e-5);
    }
  }
  const Tensor x = bf16_rounded(random({3, 1000}, 3));
  check_close("softmax", value_or_die(ops::softmax(to_gpu(as(x, DType::kBF16)))), value_or_die(ops::softmax(x)),
              1.0 / 128);
  check_close("log_softmax", value_or_die(ops::log_softmax(to_gpu(as(x, DType::kBF16)))),
              value_or_die(ops::log_softmax(x)), 1.0 / 128);
}

}  // TEST_SUITE

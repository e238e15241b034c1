// RoPE on CUDA (cuda/rope.cu) against the CPU: angles in double on both, rotation in f32 there.
#include <doctest/doctest.h>

#include "ops/rope.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: rope and its backward match the CPU, with a position offset") {
  if (skip_without_gpu()) return;
  for (const Shape& shape : {Shape{1, 1, 1, 2}, Shape{2, 37, 3, 18}, Shape{1, 300, 2, 128}}) {
    for (int64_t offset : {0, 4093}) {
      INFO("x ", shape_string(shape), " offset ", offset);
      const Tensor x = random(shape, 1);
      check_close("rope", value_or_die(ops::rope(to_gpu(x), offset, 10000.0)), value_or_die(ops::rope(x, offset, 10000.0)),
                  1e-5);
      check_close("rope_backward", value_or_die(ops::rope_backward(to_gpu(x), offset, 500000.0)),
                  value_or_die(ops::rope_backward(x, offset, 500000.0)), 1e-5);
    }
  }
  // bf16: one rounding of an f32 rotation.
  const Tensor x = bf16_rounded(random({2, 9, 4, 64}, 2));
  check_close("rope", value_or_die(ops::rope(to_gpu(as(x, DType::kBF16)), 7, 10000.0)),
              value_or_die(ops::rope(x, 7, 10000.0)), 1.0 / 128);
}

}  // TEST_SUITE

// RMSNorm on CUDA (cuda/norm.cu) against the CPU: forward, rstd, and both gradients.
#include <doctest/doctest.h>

#include "ops/norm.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: rmsnorm forward and backward match the CPU in f32, and repeat bit for bit") {
  if (skip_without_gpu()) return;
  // One row of one; odd widths; more rows than one chunk of grad_w partials (kRowsPerChunk = 128).
  for (const Shape& shape : {Shape{1, 1}, Shape{3, 7}, Shape{2, 150, 65}, Shape{300, 1024}}) {
    INFO("x ", shape_string(shape));
    const int64_t d = shape.back();
    const Tensor x = random(shape, 1, 3.0), w = random({d}, 2), gy = random(shape, 3);
    const auto want = value_or_die(ops::rmsnorm(x, w, 1e-5));
    const auto got = value_or_die(ops::rmsnorm(to_gpu(x), to_gpu(w), 1e-5));
    check_close("rmsnorm", got.y, want.y, 1e-5);
    check_close("rmsnorm", got.rstd, want.rstd, 1e-5);
    const auto gw = value_or_die(ops::rmsnorm_backward(gy, x, w, want.rstd));
    const auto gg = value_or_die(ops::rmsnorm_backward(to_gpu(gy), to_gpu(x), to_gpu(w), got.rstd));
    check_close("rmsnorm_backward", gg.grad_x, gw.grad_x, 1e-5);
    check_close("rmsnorm_backward", gg.grad_w, gw.grad_w, 1e-5);
    const auto again = value_or_die(ops::rmsnorm_backward(to_gpu(gy), to_gpu(x), to_gpu(w), got.rstd));
    CHECK(bitwise_equal(again.grad_w, gg.grad_w));
    CHECK(bitwise_equal(again.grad_x, gg.grad_x));
  }
}

TEST_CASE("cuda: rmsnorm in bf16") {
  if (skip_without_gpu()) return;
  const Tensor x = bf16_rounded(random({64, 257}, 4)), w = bf16_rounded(random({257}, 5)),
               gy = bf16_rounded(random({64, 257}, 6));
  const auto want = value_or_die(ops::rmsnorm(x, w, 1e-6));
  const Tensor x16 = to_gpu(as(x, DType::kBF16)), w16 = to_gpu(as(w, DType::kBF16));
  const auto got = value_or_die(ops::rmsnorm(x16, w16, 1e-6));
  CHECK(got.y.dtype() == DType::kBF16);
  check_close("rmsnorm", got.y, want.y, 1.0 / 128);
  // The backward reads bf16 x, w and rstd (rstd rounded too): 2^-7 each, a few ulps in all.
  const auto gw = value_or_die(ops::rmsnorm_backward(gy, x, w, bf16_rounded(want.rstd)));
  const auto gg = value_or_die(ops::rmsnorm_backward(to_gpu(as(gy, DType::kBF16)), x16, w16, got.rstd));
  check_close("rmsnorm_backward", gg.grad_x, gw.grad_x, 2.0 / 128);
  check_close("rmsnorm_backward", gg.grad_w, gw.grad_w, 2.0 / 128);
}

}  // TEST_SUITE

// concat on CUDA (strided 2-D copies, cuda/concat.cu) against the CPU, and its backward (slices).
#include <doctest/doctest.h>

#include "ops/concat.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: concat along each dimension matches the CPU, and the backward slices it apart") {
  if (skip_without_gpu()) return;
  for (int64_t dim : {0, 1, 2, -1}) {
    INFO("dim ", dim);
    std::vector<Tensor> cpu, gpu;
    std::vector<int64_t> sizes;
    for (int64_t i = 0; i < 3; ++i) {
      Shape s = {2, 3, 5};
      s[dim < 0 ? 2 : dim] = i + 1;
      cpu.push_back(random(s, 10 * dim + i + 20));
      gpu.push_back(to_gpu(cpu.back()));
      sizes.push_back(i + 1);
    }
    gpu.insert(gpu.begin() + 1, Tensor());  // undefined parts are skipped
    const Tensor want = value_or_die(ops::concat(cpu, dim)), got = value_or_die(ops::concat(gpu, dim));
    check_close("concat", got, want, 0.0);
    const auto back = value_or_die(ops::concat_backward(got, dim, sizes));
    for (size_t i = 0; i < cpu.size(); ++i) CHECK(bitwise_equal(back[i], cpu[i]));
  }
  // bf16 parts: bytes are bytes.
  const Tensor a = as(random({4, 3}, 1), DType::kBF16), b = as(random({4, 1}, 2), DType::kBF16);
  CHECK(bitwise_equal(value_or_die(ops::concat({to_gpu(a), to_gpu(b)}, 1)), value_or_die(ops::concat({a, b}, 1))));
}

}  // TEST_SUITE

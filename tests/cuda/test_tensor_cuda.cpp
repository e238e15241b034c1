// core/ on CUDA: dtype conversions, strided views made contiguous, clone and copy_from
// (core/cuda_copy.cu), against the CPU's own conversions.
#include <doctest/doctest.h>

#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: to(DType) converts f32, bf16 and f64 exactly as the CPU does") {
  if (skip_without_gpu()) return;
  // Values that need rounding in bf16, a tie case, and large and tiny magnitudes.
  Tensor a = random({7, 131}, 1, 100.0);
  a.data<float>()[0] = 1.00390625f;  // halfway between two bf16 values: rounds to even
  a.data<float>()[1] = 3.0e38f;
  a.data<float>()[2] = 1.0e-30f;
  const Tensor d = to_gpu(a);
  // Integers only from the rows that fit them (an out-of-range float to int is undefined in C++).
  const Tensor fits = value_or_die(a.slice(0, 1, 7)), d_fits = value_or_die(d.slice(0, 1, 7));
  for (DType to : {DType::kBF16, DType::kF64, DType::kI32, DType::kI64}) {
    INFO("to ", dtype_name(to));
    const bool integer = to == DType::kI32 || to == DType::kI64;
    const Tensor& src = integer ? fits : a;
    const Tensor got = value_or_die((integer ? d_fits : d).to(to));
    CHECK(got.device().is_cuda());
    CHECK(bitwise_equal(got, as(src, to)));
    // And back to f32.
    CHECK(bitwise_equal(value_or_die(got.to(DType::kF32)), as(as(src, to), DType::kF32)));
  }
  const Tensor ids = value_or_die(Tensor::from_vector<int64_t>({0, 5, -3, 123456789}, {4}));
  CHECK(bitwise_equal(value_or_die(to_gpu(ids).to(DType::kI32)), as(ids, DType::kI32)));
}

TEST_CASE("cuda: strided views (transpose, slice) become the CPU's contiguous values") {
  if (skip_without_gpu()) return;
  const Tensor a = random({5, 6, 7}, 2);
  const Tensor d = to_gpu(a);
  const Tensor cpu_views[] = {value_or_die(a.transpose(0, 2)), value_or_die(a.slice(1, 2, 5)),
                              value_or_die(value_or_die(a.transpose(1, 2)).slice(0, 1, 2))};
  const Tensor gpu_views[] = {value_or_die(d.transpose(0, 2)), value_or_die(d.slice(1, 2, 5)),
                              value_or_die(value_or_die(d.transpose(1, 2)).slice(0, 1, 2))};
  for (int i = 0; i < 3; ++i) {
    INFO("view ", i, ": ", gpu_views[i].describe());
    CHECK_FALSE(gpu_views[i].is_contiguous());
    const Tensor c = gpu_views[i].contiguous();
    CHECK(c.is_contiguous());
    CHECK(bitwise_equal(c, cpu_views[i].contiguous()));
    CHECK(bitwise_equal(gpu_views[i].clone(), cpu_views[i].clone()));
    // A strided view converted to another dtype in one pass.
    CHECK(bitwise_equal(value_or_die(gpu_views[i].to(DType::kBF16)), as(cpu_views[i], DType::kBF16)));
    // reshape of a strided view copies first.
    CHECK(bitwise_equal(value_or_die(gpu_views[i].reshape({-1})), value_or_die(cpu_views[i].reshape({-1}))));
  }
}

TEST_CASE("cuda: copy_from takes any view, dtype and device into a dense tensor") {
  if (skip_without_gpu()) return;
  const Tensor a = random({4, 9}, 3);
  const Tensor view = value_or_die(a.transpose(0, 1));  // [9, 4], strided
  const Tensor want = as(view, DType::kBF16);
  // GPU strided f32 -> GPU bf16.
  const Tensor dst = value_or_die(Tensor::empty({9, 4}, DType::kBF16, Device::cuda()));
  const uint64_t v0 = dst.version();
  CHECK(dst.copy_from(value_or_die(to_gpu(a).transpose(0, 1))).ok());
  CHECK(dst.version() == v0 + 1);
  CHECK(bitwise_equal(dst, want));
  // CPU strided f32 -> GPU bf16, and GPU f32 -> CPU bf16.
  CHECK(dst.copy_from(view).ok());
  CHECK(bitwise_equal(dst, want));
  const Tensor host = Tensor::zeros({9, 4}, DType::kBF16);
  CHECK(host.copy_from(to_gpu(view.contiguous())).ok());
  CHECK(bitwise_equal(host, want));
  // Shape mismatch: a Status naming both.
  const Status bad = dst.copy_from(to_gpu(a));
  CHECK_FALSE(bad.ok());
  CHECK(bad.message().find("copy_from") != std::string::npos);
}

}  // TEST_SUITE

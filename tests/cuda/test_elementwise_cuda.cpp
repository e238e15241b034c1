// Every CUDA op against the CPU reference on random inputs. Without a GPU each case says so and
// checks only that the CUDA path fails cleanly (a Status, no crash).
#include <doctest/doctest.h>

#include "core/rng.h"
#include "ops/elementwise.h"

using namespace mone;

namespace {
bool have_gpu() { return cuda_device_count() > 0; }

double max_abs_diff(const Tensor& a, const Tensor& b) {
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}
}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: add, sub, mul (with broadcasting) and scale match the CPU") {
  Generator gen(9);
  Tensor a = randn({37, 129}, DType::kF32, gen), b = randn({129}, DType::kF32, gen);
  if (!have_gpu()) {
    MESSAGE("no GPU visible: only checking that CUDA tensors fail cleanly");
    CHECK_FALSE(a.to(Device::cuda()).ok());
    return;
  }
  Tensor da = value_or_die(a.to(Device::cuda())), db = value_or_die(b.to(Device::cuda()));
  using Fn = StatusOr<Tensor> (*)(const Tensor&, const Tensor&);
  for (Fn fn : {Fn(ops::add), Fn(ops::sub), Fn(ops::mul)}) {
    Tensor cpu = value_or_die(fn(a, b));
    Tensor gpu = value_or_die(value_or_die(fn(da, db)).to(Device::cpu()));
    CHECK(max_abs_diff(cpu, gpu) <= 1e-6);
    Tensor gpu_swapped = value_or_die(value_or_die(fn(db, da)).to(Device::cpu()));  // small operand first
    CHECK(max_abs_diff(value_or_die(fn(b, a)), gpu_swapped) <= 1e-6);
  }
  Tensor s = value_or_die(value_or_die(ops::scale(da, -2.5)).to(Device::cpu()));
  CHECK(max_abs_diff(value_or_die(ops::scale(a, -2.5)), s) == 0.0);
  // f64 has no CUDA kernel yet: a Status, not a crash.
  Tensor d64 = value_or_die(value_or_die(a.to(DType::kF64)).to(Device::cuda()));
  CHECK_FALSE(ops::add(d64, d64).ok());
}

}  // TEST_SUITE

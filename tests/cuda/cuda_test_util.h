// What the CUDA op tests share: whether a GPU is visible, moving tensors, and the error measure.
// Without a GPU a test says so (MESSAGE) and checks only that CUDA tensors fail cleanly.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "cuda/attention.h"

namespace mone::cuda_test {

inline bool have_gpu() { return cuda_device_count() > 0; }

// Without a GPU: says why the case checks nothing more, and that a CUDA tensor is a Status, not a crash.
inline bool skip_without_gpu(const Tensor& sample) {
  if (have_gpu()) return false;
  MESSAGE("no GPU visible: only checking that CUDA tensors fail cleanly");
  CHECK_FALSE(sample.to(Device::cuda()).ok());
  return true;
}

inline Tensor to_gpu(const Tensor& t) { return value_or_die(t.to(Device::cuda())); }
inline Tensor to_cpu(const Tensor& t) { return value_or_die(t.to(Device::cpu())); }

// A random CPU tensor rounded to `dtype` (f32 or bf16), and the same values in f64 for a reference.
struct Input {
  Tensor x;    // dtype
  Tensor f64;  // exactly x's values
};
inline Input random_input(const Shape& shape, DType dtype, Generator& gen) {
  const Tensor x = value_or_die(randn(shape, DType::kF32, gen).to(dtype));
  return {x, value_or_die(x.to(DType::kF64))};
}

// max |x - ref| / max |ref| over the elements (1e-30 floor); a NaN or inf in x gives inf.
inline double normwise_error(const std::vector<double>& x, const std::vector<double>& ref) {
  REQUIRE(x.size() == ref.size());
  double err = 0.0, scale = 1e-30;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return std::numeric_limits<double>::infinity();
    err = std::max(err, std::abs(x[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / scale;
}
inline double normwise_error(const Tensor& x, const Tensor& ref) {
  REQUIRE(x.shape() == ref.shape());
  return normwise_error(to_cpu(x).to_vector<double>(), to_cpu(ref).to_vector<double>());
}

// "B 2, Tq 7, Tk 70, H 4, Hkv 2, hd 128", for CAPTURE.
inline std::string dims_string(const cuda::AttentionDims& d) {
  return "B " + std::to_string(d.b) + ", Tq " + std::to_string(d.tq) + ", Tk " + std::to_string(d.tk) + ", H " +
         std::to_string(d.h) + ", Hkv " + std::to_string(d.hkv) + ", hd " + std::to_string(d.hd);
}

// Bit-for-bit equal contents (two runs of a deterministic kernel).
inline bool same_bits(const Tensor& a_any, const Tensor& b_any) {
  const Tensor a = to_cpu(a_any), b = to_cpu(b_any);
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const auto* pa = static_cast<const unsigned char*>(a.contiguous().raw_data());
  const auto* pb = static_cast<const unsigned char*>(b.contiguous().raw_data());
  return std::equal(pa, pa + a.nbytes(), pb);
}

}  // namespace mone::cuda_test

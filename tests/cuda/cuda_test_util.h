// What the CUDA tests share: skipping without a GPU, moving tensors, random inputs, and comparing a
// CUDA result with the CPU reference.
//
// How to test a CUDA op: draw random inputs on the CPU (odd sizes, and size 1), run the op on the
// CPU and on copies of the inputs on the GPU, and call check_close with the op's name and its
// tolerance. The error is normwise: max_i |got_i - want_i| / max_i |want_i| (NaN counts as
// infinite). Tolerances: f32 1e-5, GEMM-based ops 1e-4; bf16 ops compare with the CPU run in f32
// on the same bf16-rounded inputs, to a tolerance stated at each call.
//
// When MONE_CUDA_REPORT names a file, every comparison appends "op<TAB>dtype<TAB>error<TAB>
// tolerance" to it: scripts/gpu_check.sh builds its table from those lines.
//
// Without a GPU every case calls skip_without_gpu(), which says so and checks that a CUDA tensor
// fails with a Status (no crash), then returns.
// Shape letters: none.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "cuda/attention.h"

namespace mone::cuda_test {

inline bool have_gpu() { return cuda_device_count() > 0; }

// True (and a message) when there is no GPU; then checks that CUDA tensors fail cleanly.
inline bool skip_without_gpu() {
  if (have_gpu()) return false;
  MESSAGE("no GPU visible: skipping the comparison, checking only that a CUDA tensor fails with a Status");
  const auto t = Tensor::empty({3}, DType::kF32, Device::cuda());
  CHECK_FALSE(t.ok());
  return true;
}

inline Tensor to_gpu(const Tensor& t) { return value_or_die(t.to(Device::cuda()), "to_gpu"); }
inline Tensor to_cpu(const Tensor& t) { return value_or_die(t.to(Device::cpu()), "to_cpu"); }
inline Tensor as(const Tensor& t, DType dtype) { return value_or_die(t.to(dtype), "as"); }
// The same values rounded to bf16 and back to f32 (the CPU reference of a bf16 op takes these).
inline Tensor bf16_rounded(const Tensor& t) { return as(as(t, DType::kBF16), DType::kF32); }

// A CPU f32 tensor of N(0, std²) values.
inline Tensor random(const Shape& shape, uint64_t seed, double stddev = 1.0) {
  Generator gen(seed);
  return randn(shape, DType::kF32, gen, 0.0, stddev);
}

// max_i |got_i - want_i| / max_i |want_i| over two tensors of one shape on any devices and dtypes.
inline double max_rel_error(const Tensor& got, const Tensor& want) {
  REQUIRE(got.shape() == want.shape());
  const auto g = to_cpu(got).to_vector<double>(), w = to_cpu(want).to_vector<double>();
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i]) != std::isnan(w[i])) return INFINITY;
    if (std::isnan(g[i])) continue;
    diff = std::max(diff, std::abs(g[i] - w[i]));
    scale = std::max(scale, std::abs(w[i]));
  }
  return scale == 0.0 ? diff : diff / scale;
}

// CHECKs that `got` (a CUDA result) matches `want` (the CPU's) to `tol`, and reports the error.
inline void check_close(const std::string& op, const Tensor& got, const Tensor& want, double tol) {
  INFO(op, ": got ", got.describe(), ", want ", want.describe());
  CHECK(got.device().is_cuda());
  const double err = max_rel_error(got, want);
  CHECK_MESSAGE(err <= tol, op, ": error ", err, " > tolerance ", tol);
  if (const char* path = std::getenv("MONE_CUDA_REPORT")) {
    std::ofstream(path, std::ios::app) << op << '\t' << dtype_name(got.dtype()) << '\t' << err << '\t' << tol << '\n';
  }
}

// True when two tensors hold the same bits (same dtype and shape), wherever they are.
inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor x = to_cpu(a).contiguous(), y = to_cpu(b).contiguous();
  return std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

// A random CPU tensor rounded to `dtype` (f32 or bf16), and the same values in f64 for a reference.
struct Input {
  Tensor x;    // dtype
  Tensor f64;  // exactly x's values
};
inline Input random_input(const Shape& shape, DType dtype, Generator& gen) {
  const Tensor x = value_or_die(randn(shape, DType::kF32, gen).to(dtype));
  return {x, value_or_die(x.to(DType::kF64))};
}

// max |x - ref| / max(max |ref|, floor) over two lists of values; a NaN or inf in x gives inf.
// `floor`: the smallest scale, for a reference that is zero in exact arithmetic (its f64 rounding
// noise must not become the scale).
inline double normwise_error(const std::vector<double>& x, const std::vector<double>& ref, double floor = 1e-30) {
  REQUIRE(x.size() == ref.size());
  double err = 0.0, scale = floor;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return std::numeric_limits<double>::infinity();
    err = std::max(err, std::abs(x[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / scale;
}

// "B 2, Tq 7, Tk 70, H 4, Hkv 2, hd 128", for CAPTURE.
inline std::string dims_string(const cuda::AttentionDims& d) {
  return "B " + std::to_string(d.b) + ", Tq " + std::to_string(d.tq) + ", Tk " + std::to_string(d.tk) + ", H " +
         std::to_string(d.h) + ", Hkv " + std::to_string(d.hkv) + ", hd " + std::to_string(d.hd);
}

}  // namespace mone::cuda_test

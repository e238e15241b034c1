// Helpers shared by the dense-op tests (matmul, norm, rope, attention).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace mone::dense_test {

inline Tensor random(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, dtype, gen);
}

// max_i |t_i - ref_i|, after checking the sizes agree.
inline double max_abs_diff(const Tensor& t, const std::vector<double>& ref) {
  REQUIRE(t.numel() == static_cast<int64_t>(ref.size()));
  double m = 0.0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::abs(read_as_double(t, i) - ref[i]));
  return m;
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  return max_abs_diff(a, b.to_vector<double>());
}

// Tolerance for comparing a kernel with an f64 reference: sums of `terms` products of O(1) values.
inline double tolerance(DType dtype, int64_t terms) {
  return (dtype == DType::kF64 ? 1e-12 : 2e-6) * std::max<int64_t>(terms, 1) + (dtype == DType::kF64 ? 1e-13 : 1e-6);
}

// The status is an InvalidArgument error whose message contains every part.
template <typename S>
void check_error(const S& result, std::initializer_list<std::string> parts) {
  Status s;
  if constexpr (std::is_same_v<S, Status>) {
    s = result;
  } else {
    s = result.status();
  }
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  const std::string msg(s.message());
  for (const std::string& p : parts) CHECK_MESSAGE(msg.find(p) != std::string::npos, "'", p, "' not in: ", msg);
}

}  // namespace mone::dense_test

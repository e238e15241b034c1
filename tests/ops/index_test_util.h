// Index tensors for the tests of ops that take ids, targets or indices (cross_entropy,
// embedding, topk, gather). Complements tests/ops/dense_test_util.h.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace mone::index_test {

// An i32 or i64 tensor holding `values`.
inline Tensor index_tensor(const std::vector<int64_t>& values, const Shape& shape, DType dtype = DType::kI64) {
  Tensor t = value_or_die(Tensor::from_vector<int64_t>(values, shape));
  return dtype == DType::kI64 ? t : value_or_die(t.to(dtype));
}

// Uniform ids in [0, bound), fixed by `seed`.
inline std::vector<int64_t> random_ids(int64_t n, int64_t bound, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> ids(n);
  for (auto& id : ids) id = static_cast<int64_t>(gen.uniform() * bound) % bound;
  return ids;
}

}  // namespace mone::index_test

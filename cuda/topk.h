// CUDA launchers for ops/topk.h (f32 and bf16): the k largest of each row with their indices,
// in TopkBefore order (ops/cpu/topk.cpp): values descending, NaN above every number, equal values
// (and -0 with +0, and NaN with NaN) by the lower index. Built on one stable radix sort of
// (row, order key) pairs (cuda/sort.h), so the result is deterministic. The backward is a
// scatter-add along the last dim (cuda/gather.h).
// Shape letters: R rows, n the searched (last) dim, k kept (1 <= k <= n); R·n < 2^31, R < 2^32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/bf16.h"
#include "cuda/hd.h"
#include "cuda/launch.h"

namespace mone::cuda {

// The order key of a value: a larger value has a larger key, every NaN the largest key, and -0
// the key of +0. Ascending (row << 32 | ~key, position) is then TopkBefore order row by row.
MONE_HD uint32_t topk_order_key(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0xffffffffu;  // NaN
  if (u == 0x80000000u) u = 0;                              // -0 as +0
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
MONE_HD uint64_t topk_sort_key(uint64_t row, float x) { return (row << 32) | static_cast<uint32_t>(~topk_order_key(x)); }

// Workspace bytes for topk_forward on [rows, n].
cudaError_t topk_workspace(int64_t rows, int64_t n, size_t* bytes);

// values [R, k] (x's type), indices [R, k] (i64) from x [R, n]; `workspace` holds topk_workspace bytes.
template <typename T>
cudaError_t topk_forward(T* values, int64_t* indices, const T* x, int64_t rows, int64_t n, int64_t k, void* workspace,
                         size_t workspace_bytes, cudaStream_t stream);

}  // namespace mone::cuda

// Launch arithmetic shared by the .cu files (nvcc only).
// Shape letters: none.
#pragma once

#include <cstdint>

namespace mone::cuda {

// Threads per block of the one-dimensional grid-stride kernels.
constexpr int kBlock = 256;

// The largest gridDim.x (gridDim.y and .z stop at 65535).
constexpr int64_t kMaxGridX = 2147483647;

constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks for a grid-stride loop over n elements: one thread per element, at most 65535·4 blocks
// (each thread then loops).
inline int grid_stride_blocks(int64_t n) {
  const int64_t blocks = ceil_div(n, kBlock);
  return static_cast<int>(blocks < 262140 ? blocks : 262140);
}

}  // namespace mone::cuda

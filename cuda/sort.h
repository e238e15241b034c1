// A stable sort of (64-bit key, 32-bit value) pairs on the GPU, for the kernels that need one
// (top-k, scatter-add): CUB's radix sort, which is deterministic, and stable, so pairs with equal
// keys keep their input order. The caller provides one workspace (sort_pairs_workspace bytes)
// and fills keys_in and values_in of its SortBuffers; the sorted pairs land in keys_out and
// values_out. Device pointers; n < 2^31.
// Shape letters: n pairs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cuda/launch.h"

namespace mone::cuda {

struct SortBuffers {
  uint64_t* keys_in;
  uint64_t* keys_out;
  uint32_t* values_in;
  uint32_t* values_out;
  void* temp;  // CUB's scratch, the rest of the workspace
  size_t temp_bytes;
};

// Bytes of workspace for n pairs (the four arrays and CUB's scratch, each 256-byte aligned).
cudaError_t sort_pairs_workspace(int64_t n, size_t* bytes);
// The arrays inside a workspace of `bytes` >= sort_pairs_workspace(n) bytes.
SortBuffers sort_buffers(void* workspace, size_t bytes, int64_t n);
// Sorts keys_in/values_in into keys_out/values_out by the low key_bits bits of the key (1..64;
// the higher bits must be zero), ascending.
cudaError_t sort_pairs(const SortBuffers& buffers, int64_t n, int key_bits, cudaStream_t stream);

// The number of bits needed to write x (0 for 0).
constexpr int bit_width(uint64_t x) { return x == 0 ? 0 : 1 + bit_width(x >> 1); }

}  // namespace mone::cuda

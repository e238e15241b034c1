// Stable pair sort for cuda/sort.h through CUB's DeviceRadixSort (one instantiation: u64 keys,
// u32 values). Shape letters: n pairs.
#include <cub/device/device_radix_sort.cuh>

#include "cuda/sort.h"

namespace mone::cuda {

namespace {

constexpr size_t kAlign = 256;
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

cudaError_t cub_sort(void* temp, size_t& temp_bytes, const SortBuffers& b, int64_t n, int key_bits,
                     cudaStream_t stream) {
  return cub::DeviceRadixSort::SortPairs(temp, temp_bytes, b.keys_in, b.keys_out, b.values_in, b.values_out,
                                         static_cast<int>(n), 0, key_bits, stream);
}

}  // namespace

cudaError_t sort_pairs_workspace(int64_t n, size_t* bytes) {
  if (n < 0 || n > INT32_MAX) return cudaErrorInvalidValue;
  size_t temp = 0;
  const cudaError_t e = cub_sort(nullptr, temp, SortBuffers{}, n, 64, nullptr);
  if (e != cudaSuccess) return e;
  *bytes = 2 * aligned(n * sizeof(uint64_t)) + 2 * aligned(n * sizeof(uint32_t)) + aligned(temp);
  return cudaSuccess;
}

SortBuffers sort_buffers(void* workspace, size_t bytes, int64_t n) {
  char* p = static_cast<char*>(workspace);
  SortBuffers b;
  b.keys_in = reinterpret_cast<uint64_t*>(p);
  b.keys_out = reinterpret_cast<uint64_t*>(p += aligned(n * sizeof(uint64_t)));
  b.values_in = reinterpret_cast<uint32_t*>(p += aligned(n * sizeof(uint64_t)));
  b.values_out = reinterpret_cast<uint32_t*>(p += aligned(n * sizeof(uint32_t)));
  b.temp = p + aligned(n * sizeof(uint32_t));
  const size_t arrays = 2 * aligned(n * sizeof(uint64_t)) + 2 * aligned(n * sizeof(uint32_t));
  b.temp_bytes = bytes > arrays ? bytes - arrays : 0;
  return b;
}

cudaError_t sort_pairs(const SortBuffers& buffers, int64_t n, int key_bits, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (n < 0 || n > INT32_MAX || key_bits < 1 || key_bits > 64) return cudaErrorInvalidValue;
  size_t temp_bytes = 0;
  cudaError_t e = cub_sort(nullptr, temp_bytes, buffers, n, key_bits, stream);
  if (e != cudaSuccess) return e;
  if (temp_bytes > buffers.temp_bytes) return cudaErrorInvalidValue;  // a workspace too small
  e = cub_sort(buffers.temp, temp_bytes, buffers, n, key_bits, stream);
  if (e != cudaSuccess) return e;
  return cudaGetLastError();
}

}  // namespace mone::cuda

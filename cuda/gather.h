// CUDA launchers for ops/gather.h (f32 and bf16 data; i32 or i64 index), PyTorch semantics:
//   gather:       out[p] = x[p with its `dim` coordinate replaced by index[p]]
//   scatter_add:  out = 0; out[p with its `dim` coordinate replaced by index[p]] += src[p]
// for every position p of index. The scatter is deterministic without atomics: the (destination,
// p) pairs are sorted stably by destination (cuda/sort.h) and each destination's run is summed
// by one thread in p order, starting from 0: for f32 exactly the CPU kernel's sums
// (ops/cpu/gather.cpp). bf16 sums in f32 and rounds once. Index values must be in range (ops
// checks them first).
// Shape letters: r the rank of index and data (x, or out for scatter_add; r <= kGatherMaxRank),
// N the index's element count (< 2^31).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/bf16.h"
#include "cuda/hd.h"
#include "cuda/launch.h"

namespace mone::cuda {

constexpr int kGatherMaxRank = 8;

// The index tensor's shape and the data tensor's (both rank r, contiguous), and the indexed dim.
struct GatherGeometry {
  int rank = 0;
  int dim = 0;
  int64_t index_shape[kGatherMaxRank] = {};
  int64_t data_shape[kGatherMaxRank] = {};
};

// For shapes of one rank r <= kGatherMaxRank and 0 <= dim < r.
inline GatherGeometry gather_geometry(const std::vector<int64_t>& index_shape, const std::vector<int64_t>& data_shape,
                                      int64_t dim) {
  GatherGeometry g;
  g.rank = static_cast<int>(index_shape.size());
  g.dim = static_cast<int>(dim);
  for (int d = 0; d < g.rank; ++d) {
    g.index_shape[d] = index_shape[d];
    g.data_shape[d] = data_shape[d];
  }
  return g;
}

// The data offset that index position p (row-major in index) addresses when index[p] = value.
MONE_HD int64_t gather_data_offset(const GatherGeometry& g, int64_t p, int64_t value) {
  int64_t offset = 0, stride = 1;
  for (int d = g.rank - 1; d >= 0; --d) {
    const int64_t c = p % g.index_shape[d];
    p /= g.index_shape[d];
    offset += (d == g.dim ? value : c) * stride;
    stride *= g.data_shape[d];
  }
  return offset;
}

// After sorting the pairs (data offset, p) by offset: when sorted position s starts a run of one
// offset, *sum = Σ load(p) over the run in order (from 0.f) and it returns true.
template <class Load>
MONE_HD bool scatter_run_sum(const uint64_t* offsets, const uint32_t* positions, int64_t n, int64_t s, Load load,
                             float* sum) {
  if (s > 0 && offsets[s - 1] == offsets[s]) return false;
  float acc = 0.f;
  for (int64_t t = s; t < n && offsets[t] == offsets[s]; ++t) acc += load(positions[t]);
  *sum = acc;
  return true;
}

// out [index's shape] from x [data shape].
template <typename T, typename I>
cudaError_t gather_forward(T* out, const T* x, const I* index, int64_t n_index, const GatherGeometry& g,
                           cudaStream_t stream);

// Workspace bytes for scatter_add_forward with N index elements.
cudaError_t scatter_add_workspace(int64_t n_index, size_t* bytes);

// out [data shape, n_out elements] (=) from src [index's shape]; `workspace` holds
// scatter_add_workspace bytes.
template <typename T, typename I>
cudaError_t scatter_add_forward(T* out, int64_t n_out, const T* src, const I* index, int64_t n_index,
                                const GatherGeometry& g, void* workspace, size_t workspace_bytes, cudaStream_t stream);

// The instantiations cuda/gather.cu and its stub define: f32 and bf16 data, i32 and i64 index.
#define MONE_GATHER_INSTANTIATE(T, I)                                                                             \
  template cudaError_t gather_forward<T, I>(T*, const T*, const I*, int64_t, const GatherGeometry&, cudaStream_t); \
  template cudaError_t scatter_add_forward<T, I>(T*, int64_t, const T*, const I*, int64_t, const GatherGeometry&,  \
                                                 void*, size_t, cudaStream_t);
#define MONE_GATHER_INSTANTIATE_ALL         \
  MONE_GATHER_INSTANTIATE(float, int32_t) \
  MONE_GATHER_INSTANTIATE(float, int64_t) \
  MONE_GATHER_INSTANTIATE(bf16, int32_t)  \
  MONE_GATHER_INSTANTIATE(bf16, int64_t)

}  // namespace mone::cuda

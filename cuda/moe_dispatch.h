// CUDA launchers for ops/moe_dispatch.h (T = float or bf16): the dispatch plan by a stable counting
// sort, the permute, and the combine summed in fixed slot order. No atomics: every count and every
// position is computed by one thread in a fixed order, so a plan is the same on every run, and it
// is the CPU's plan exactly (ops/cpu/moe_dispatch.cpp).
//
// The counting sort over the R = N·K pairs, which are cut into chunks of kDispatchChunk
// consecutive pairs (C chunks), in four steps (the functions below, which the kernels and a CPU
// test run alike):
//   1. histogram   thread c counts the expert ids of chunk c:        hist[c, j]
//   2. scan        thread j turns column j into exclusive prefixes over the chunks, and counts[j]
//                  = its total
//   3. offsets     one thread: offsets = exclusive prefix of counts (offsets[E] = R)
//   4. place       thread c walks chunk c in pair order: r = offsets[j] + hist[c, j]++,
//                  order[r] = p, slot_row[p] = r
// Pairs of one expert land in pair order (chunk by chunk, in order inside a chunk): stable, so
// ascending token then slot, as the CPU's.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, R = N·K pairs (rows),
//   C = ceil(R / kDispatchChunk) chunks.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/hd.h"
#include "cuda/launch.h"

namespace mone::cuda {

constexpr int64_t kDispatchChunk = 256;

MONE_HD int64_t dispatch_chunks(int64_t pairs) { return (pairs + kDispatchChunk - 1) / kDispatchChunk; }

// 1. hist[c, :] = how many pairs of chunk c go to each expert.
MONE_HD void dispatch_histogram(const int64_t* expert_ids, int64_t pairs, int64_t e, int64_t c, int64_t* hist) {
  int64_t* h = hist + c * e;
  for (int64_t j = 0; j < e; ++j) h[j] = 0;
  const int64_t end = (c + 1) * kDispatchChunk < pairs ? (c + 1) * kDispatchChunk : pairs;
  for (int64_t p = c * kDispatchChunk; p < end; ++p) ++h[expert_ids[p]];
}

// 2. Column j of hist becomes exclusive prefixes over the chunks; counts[j] = the column's total.
MONE_HD void dispatch_scan(int64_t* hist, int64_t chunks, int64_t e, int64_t j, int64_t* counts) {
  int64_t total = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t n = hist[c * e + j];
    hist[c * e + j] = total;
    total += n;
  }
  counts[j] = total;
}

// 3. offsets [E + 1] = exclusive prefix of counts.
MONE_HD void dispatch_offsets(const int64_t* counts, int64_t e, int64_t* offsets) {
  offsets[0] = 0;
  for (int64_t j = 0; j < e; ++j) offsets[j + 1] = offsets[j] + counts[j];
}

// 4. Chunk c's pairs to their rows, in pair order (hist[c, :] is used up as the next free row).
MONE_HD void dispatch_place(const int64_t* expert_ids, int64_t pairs, int64_t e, int64_t c, const int64_t* offsets,
                            int64_t* hist, int64_t* order, int64_t* slot_row) {
  int64_t* next = hist + c * e;
  const int64_t end = (c + 1) * kDispatchChunk < pairs ? (c + 1) * kDispatchChunk : pairs;
  for (int64_t p = c * kDispatchChunk; p < end; ++p) {
    const int64_t j = expert_ids[p];
    const int64_t r = offsets[j] + next[j]++;
    order[r] = p;
    slot_row[p] = r;
  }
}

// Elements of the i64 scratch build_dispatch needs: hist [C, E].
MONE_HD int64_t dispatch_scratch(int64_t pairs, int64_t e) { return dispatch_chunks(pairs) * e; }

// counts [E], offsets [E + 1], order [R], slot_row [R] from expert_ids [R] (i64, each in [0, E));
// scratch holds dispatch_scratch(R, E) elements.
cudaError_t build_dispatch(const int64_t* expert_ids, int64_t pairs, int64_t e, int64_t* scratch, int64_t* counts,
                           int64_t* offsets, int64_t* order, int64_t* slot_row, cudaStream_t stream);

// x_perm [R, d]: row r = x[order[r] / K].
template <typename T>
cudaError_t permute_forward(const T* x, const int64_t* order, int64_t rows, int64_t k, int64_t d, T* x_perm,
                            cudaStream_t stream);

// out [N, d] = Σ_{s < K} weights[t, s] · rows[slot_row[t·K + s]], the slots in order, each product
// and sum rounded as the CPU's f32 (bf16: in f32, rounded once); weights == nullptr means all ones
// (permute's backward).
template <typename T>
cudaError_t combine_forward(const T* rows, const T* weights, const int64_t* slot_row, int64_t n, int64_t k, int64_t d,
                            T* out, cudaStream_t stream);

// grad_y_perm[slot_row[t·K + s]] = weights[t, s] · grad_out[t];
// grad_weights[t, s] = y_perm[slot_row[t·K + s]] · grad_out[t] (in double, a fixed tree).
template <typename T>
cudaError_t combine_backward(const T* grad_out, const T* y_perm, const T* weights, const int64_t* slot_row, int64_t n,
                             int64_t k, int64_t d, T* grad_y_perm, T* grad_weights, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_MOE_DISPATCH_LAUNCHERS(T)                                                                       \
  template cudaError_t permute_forward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*, cudaStream_t);  \
  template cudaError_t combine_forward<T>(const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, T*,       \
                                          cudaStream_t);                                                           \
  template cudaError_t combine_backward<T>(const T*, const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, \
                                           T*, T*, cudaStream_t);

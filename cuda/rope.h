// CUDA launchers for ops/rope.h (rotary position embedding, rotate-half form), T = float or bf16.
// The angles (position_offset + t) · theta^(-2i/hd) and their cos and sin are computed in double,
// as the CPU's table, once per call into a table of f32 [2, T, hd/2]; the rotation runs in f32.
// Shape letters: B batch, T sequence, H heads, hd head dim (even).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"

namespace mone::cuda {

// y [B, T, H, hd] = x rotated pairwise by +θ (inverse: by -θ). `table` is scratch of T · hd
// floats. y may alias x.
template <typename T>
cudaError_t rope_rotate(T* y, const T* x, int64_t b, int64_t t, int64_t h, int64_t hd, int64_t position_offset,
                        double theta, bool inverse, float* table, cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_ROPE_LAUNCHERS(T)                                                                             \
  template cudaError_t rope_rotate<T>(T*, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, double, bool, \
                                      float*, cudaStream_t);

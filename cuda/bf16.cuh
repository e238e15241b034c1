// Reading and writing f32 and bf16 elements as f32 in device code (nvcc only): bf16 widens by a
// shift and narrows rounding to nearest even, as mone::bf16 does on the host.
// Shape letters: none.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "core/bf16.h"

namespace mone::cuda {

__device__ __forceinline__ float load_f32(const float* p) { return *p; }
__device__ __forceinline__ float load_f32(const bf16* p) { return __uint_as_float(static_cast<uint32_t>(p->bits) << 16); }
__device__ __forceinline__ void store_f32(float* p, float x) { *p = x; }
__device__ __forceinline__ void store_f32(bf16* p, float x) {
  *reinterpret_cast<__nv_bfloat16*>(p) = __float2bfloat16_rn(x);
}

}  // namespace mone::cuda

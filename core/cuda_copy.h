// The one copy kernel core/ needs on the GPU: element i of a strided view, converted to another
// dtype, written densely; optionally y = scale · x + shift on the way (random fills use it).
// Serves Tensor::contiguous/clone/copy_from of strided CUDA views, Tensor::to(DType) on CUDA,
// and the cuRAND fills of core/cuda_random.
//
// CUDA builds only: core/cuda_memory.cpp and core/cuda_random.cpp call it, and builds without
// CUDA compile their stubs instead (core/stubs/cuda_copy.cpp is an empty stand-in). Plain C++17,
// no Abseil: nvcc compiles core/cuda_copy.cu against it.
// Shape letters: none; n elements of a view of up to kMaxDims dimensions.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "core/dtype.h"

namespace mone::cuda_copy {

constexpr int kMaxDims = 8;

// A view in elements: dims [ndim], strides [ndim]; element i (row-major over the dims) lives at
// base[Σ_d index_d(i) · strides[d]].
struct Layout {
  int ndim = 0;
  int64_t dims[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

// dst[i] = convert(scale · src[layout(i)] + shift) for i < n = Π dims, with dst dense. When the
// dtypes match and scale = 1, shift = 0, elements are copied bit for bit (i64 included);
// otherwise values pass through double (bf16 rounds to nearest even, as core/dtype.h's bf16).
// Launched on `stream`; returns the launch's error.
cudaError_t strided_convert(void* dst, DType dst_dtype, const void* src, DType src_dtype, const Layout& layout,
                            double scale, double shift, cudaStream_t stream);

}  // namespace mone::cuda_copy

// The strided copy-and-convert kernel of core/cuda_copy.h (kernel, then launcher).
// Shape letters: none; n elements of a view of up to kMaxDims dimensions.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "core/cuda_copy.h"

namespace mone::cuda_copy {

namespace {

constexpr int kThreads = 256;

// Element `i` of `p` (of dtype t) as double.
__device__ double load(const void* p, DType t, int64_t i) {
  switch (t) {
    case DType::kF32: return static_cast<const float*>(p)[i];
    case DType::kF64: return static_cast<const double*>(p)[i];
    case DType::kBF16: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    case DType::kI32: return static_cast<const int32_t*>(p)[i];
    case DType::kI64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
  }
  return 0;
}

__device__ void store(void* p, DType t, int64_t i, double v) {
  switch (t) {
    case DType::kF32: static_cast<float*>(p)[i] = static_cast<float>(v); break;
    case DType::kF64: static_cast<double*>(p)[i] = v; break;
    // Through float first, as the CPU does (bf16(float(v))), so both round the same way.
    case DType::kBF16: static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(static_cast<float>(v)); break;
    case DType::kI32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v); break;
    case DType::kI64: static_cast<int64_t*>(p)[i] = static_cast<int64_t>(v); break;
  }
}

// Bytes of one element, for the bit-for-bit path.
__device__ void copy_element(void* dst, int64_t i, const void* src, int64_t j, int size) {
  switch (size) {
    case 2: static_cast<uint16_t*>(dst)[i] = static_cast<const uint16_t*>(src)[j]; break;
    case 4: static_cast<uint32_t*>(dst)[i] = static_cast<const uint32_t*>(src)[j]; break;
    default: static_cast<uint64_t*>(dst)[i] = static_cast<const uint64_t*>(src)[j]; break;
  }
}

// Grid-stride loop over the n elements of the view; `exact` copies bytes of `size`.
__global__ void strided_convert_kernel(void* dst, DType dst_dtype, const void* src, DType src_dtype, Layout layout,
                                       int64_t n, bool exact, int size, double scale, double shift) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    // The source offset of element i: peel the row-major index from the last dim.
    int64_t rest = i, j = 0;
    for (int d = layout.ndim - 1; d >= 0; --d) {
      j += (rest % layout.dims[d]) * layout.strides[d];
      rest /= layout.dims[d];
    }
    if (exact) {
      copy_element(dst, i, src, j, size);
    } else {
      store(dst, dst_dtype, i, scale * load(src, src_dtype, j) + shift);
    }
  }
}

int element_size(DType t) {
  switch (t) {
    case DType::kBF16: return 2;
    case DType::kF32:
    case DType::kI32: return 4;
    default: return 8;
  }
}

}  // namespace

cudaError_t strided_convert(void* dst, DType dst_dtype, const void* src, DType src_dtype, const Layout& layout,
                            double scale, double shift, cudaStream_t stream) {
  if (layout.ndim < 0 || layout.ndim > kMaxDims) return cudaErrorInvalidValue;
  int64_t n = 1;
  for (int d = 0; d < layout.ndim; ++d) n *= layout.dims[d];
  if (n == 0) return cudaSuccess;
  const bool exact = dst_dtype == src_dtype && scale == 1.0 && shift == 0.0;
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  strided_convert_kernel<<<static_cast<int>(blocks < 65535 * 4 ? blocks : 65535 * 4), kThreads, 0, stream>>>(
      dst, dst_dtype, src, src_dtype, layout, n, exact, element_size(src_dtype), scale, shift);
  return cudaGetLastError();
}

}  // namespace mone::cuda_copy

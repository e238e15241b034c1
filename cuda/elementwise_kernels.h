// Launchers of cuda/elementwise_kernels.cu. Kept free of Abseil so nvcc compiles only plain CUDA;
// each returns nullptr on success or the CUDA error string.
#pragma once

#include <cstdint>

namespace mone::cuda::kernels {

const char* launch_binary(int kind, const float* a, int64_t na, const float* b, int64_t nb, float* out);
const char* launch_scale(const float* a, int64_t n, float s, float* out);

}  // namespace mone::cuda::kernels

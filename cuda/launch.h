// What every CUDA launcher takes and returns, in plain C++ that ops/ includes with or without
// nvcc: the stream is passed explicitly (cudaStream_t) and the result is a cudaError_t
// (cudaSuccess, or the launch's or the kernel's first error). cuda/status.h turns it into a
// Status naming the op.
//
// Built without CUDA, the launchers are the stubs in cuda/stubs/, which return cudaErrorNoDevice;
// the stand-ins below for the two CUDA types keep every launcher's declaration the same in both
// builds, so no caller needs an #ifdef.
//
// Shape letters: none.
#pragma once

#if MONE_WITH_CUDA
#include <cuda_runtime_api.h>
#else
struct CUstream_st;
typedef CUstream_st* cudaStream_t;
enum cudaError_t { cudaSuccess = 0, cudaErrorNoDevice = 100 };
#endif

// The element types of the templated launchers: each cuda/NAME.h ends with a macro
// MONE_CUDA_NAME_LAUNCHERS(T) listing its launchers' explicit instantiations, and both
// cuda/NAME.cu and cuda/stubs/NAME.cpp expand MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_NAME_LAUNCHERS)
// (T = float and mone::bf16), so the two can never disagree on a signature.
#define MONE_CUDA_FOR_FLOAT_TYPES(M) M(float) M(::mone::bf16)

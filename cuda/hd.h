// Macros for code that both nvcc (in kernels) and the host compiler (in CPU emulations and tests)
// compile: MONE_HD marks a function for both sides, MONE_UNROLL asks nvcc to unroll a loop.
// Shape letters: none.
#pragma once

#if defined(__CUDACC__)
#define MONE_HD __host__ __device__ __forceinline__
#define MONE_UNROLL _Pragma("unroll")
#define MONE_UNROLL_2 _Pragma("unroll 2")
#else
#define MONE_HD inline
#define MONE_UNROLL
#define MONE_UNROLL_2
#endif

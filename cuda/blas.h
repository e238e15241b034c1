// cuBLAS for ops/matmul.h: a handle and a workspace per (thread, device), and the row-major GEMM
// of ops/cpu/matmul.h's gemm_batched on the GPU. Plain C++ over the cuBLAS host API (no kernel of
// ours), so it returns a Status naming the op and the cuBLAS error.
//
// Precision: f32 GEMMs accumulate in f32 on the FP32 units; they use TF32 tensor cores (10-bit
// mantissa products) only after set_allow_tf32(true) on the calling thread (TrainSpec.allow_tf32).
// bf16 GEMMs take bf16 inputs, accumulate in f32 (reduced-precision split-K reductions are
// disallowed on every handle) and round the output to bf16.
// Determinism: cuBLAS gives the same bits on every run on one GPU model with a fixed workspace and
// stream; atomics stay off (cuBLAS's default), as mone requires.
// Shape letters: M rows of the output, N its columns, K the contracted size, Bt batch.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/status.h"
#include "cuda/launch.h"

namespace mone::cuda {

// c[i] = alpha · op(a[i]) · op(b[i]) + beta · c[i] for i < batch, row-major with row strides
// lda/ldb/ldc and batch strides stride_a/b/c (elements); op(a) is [M, K] (a stored [K, M] when
// trans_a), op(b) is [K, N]. dtype is kF32 or kBF16 (every operand); other dtypes are refused.
// With beta = 0, c's old contents are ignored. Runs on `stream` of `device`.
Status gemm_batched(DType dtype, int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    float alpha, const void* a, int64_t lda, int64_t stride_a, const void* b, int64_t ldb,
                    int64_t stride_b, float beta, void* c, int64_t ldc, int64_t stride_c, int device,
                    cudaStream_t stream, const char* op);

// Whether the calling thread's f32 GEMMs may use TF32 tensor cores. Off until set.
void set_allow_tf32(bool allow);
bool allow_tf32();

}  // namespace mone::cuda

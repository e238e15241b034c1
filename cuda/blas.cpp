#include "cuda/blas.h"

#include <climits>
#include <map>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda/status.h"

namespace mone::cuda {

namespace {

// cuBLAS's recommended workspace on Hopper.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;

thread_local bool tls_allow_tf32 = false;

Status blas_status(cublasStatus_t s, const char* op, const char* call) {
  if (s == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(op, " (cuBLAS ", call, "): ", cublasGetStatusString(s), " [", cublasGetStatusName(s), "]"));
}
#define MONE_CUBLAS(op, call) MONE_RETURN_IF_ERROR(blas_status((call), op, #call))

// One handle and its workspace, for one device, owned by one thread.
struct Handle {
  cublasHandle_t handle = nullptr;
  void* workspace = nullptr;
};

// The calling thread's handles by device, destroyed when the thread ends.
struct ThreadHandles {
  std::map<int, Handle> by_device;
  ~ThreadHandles() {
    for (auto& [device, h] : by_device) {
      cudaSetDevice(device);
      cublasDestroy(h.handle);
      cudaFree(h.workspace);
    }
  }
};
thread_local ThreadHandles tls_handles;

StatusOr<Handle*> handle_for(int device, const char* op) {
  MONE_RETURN_IF_ERROR(to_status(cudaSetDevice(device), op));
  auto it = tls_handles.by_device.find(device);
  if (it != tls_handles.by_device.end()) return &it->second;
  Handle h;
  MONE_CUBLAS(op, cublasCreate(&h.handle));
  // f32 accumulation all the way: no bf16 reductions inside split-K.
  Status s = blas_status(
      cublasSetMathMode(h.handle, static_cast<cublasMath_t>(CUBLAS_DEFAULT_MATH |
                                                            CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION)),
      op, "cublasSetMathMode");
  if (s.ok()) s = to_status(cudaMalloc(&h.workspace, kWorkspaceBytes), op);
  if (!s.ok()) {
    cublasDestroy(h.handle);
    return s;
  }
  return &tls_handles.by_device.emplace(device, h).first->second;
}

}  // namespace

void set_allow_tf32(bool allow) { tls_allow_tf32 = allow; }
bool allow_tf32() { return tls_allow_tf32; }

Status gemm_batched(DType dtype, int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    float alpha, const void* a, int64_t lda, int64_t stride_a, const void* b, int64_t ldb,
                    int64_t stride_b, float beta, void* c, int64_t ldc, int64_t stride_c, int device,
                    cudaStream_t stream, const char* op) {
  if (dtype != DType::kF32 && dtype != DType::kBF16) {
    return absl::UnimplementedError(
        absl::StrCat(op, ": no CUDA GEMM for dtype ", dtype_name(dtype), " (f32 and bf16 have one)"));
  }
  for (int64_t v : {batch, m, n, k, lda, ldb, ldc}) {
    if (v < 0 || v > INT_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": a GEMM size or stride (", v, ") exceeds cuBLAS's int"));
    }
  }
  if (batch == 0 || m == 0 || n == 0) return absl::OkStatus();
  const size_t elem = dtype_size(dtype);
  if (k == 0 && beta == 0.f && ldc == n && stride_c == m * n) {
    // Nothing to contract: c = 0 (cuBLAS would only scale c by beta).
    return to_status(cudaMemsetAsync(c, 0, static_cast<size_t>(batch * m * n) * elem, stream), op);
  }
  MONE_ASSIGN_OR_RETURN(Handle * h, handle_for(device, op));
  MONE_CUBLAS(op, cublasSetStream(h->handle, stream));
  // Setting the stream resets the workspace: set ours after it.
  MONE_CUBLAS(op, cublasSetWorkspace(h->handle, h->workspace, kWorkspaceBytes));
  const cudaDataType_t type = dtype == DType::kF32 ? CUDA_R_32F : CUDA_R_16BF;
  const cublasComputeType_t compute =
      dtype == DType::kF32 && tls_allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  // Row-major c = op(a) · op(b) is column-major cᵀ = op(b)ᵀ · op(a)ᵀ, and a row-major matrix read
  // column-major is its transpose: so b goes first, each with its own transpose flag.
  MONE_CUBLAS(op, cublasGemmStridedBatchedEx(h->handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                             trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                             static_cast<int>(m), static_cast<int>(k), &alpha, b, type,
                                             static_cast<int>(ldb), stride_b, a, type, static_cast<int>(lda),
                                             stride_a, &beta, c, type, static_cast<int>(ldc), stride_c,
                                             static_cast<int>(batch), compute, CUBLAS_GEMM_DEFAULT));
  return absl::OkStatus();
}

}  // namespace mone::cuda

#include "core/cuda_random.h"

#include <memory>

#include <cuda_runtime.h>
#include <curand.h>

#include "core/cuda_copy.h"
#include "core/cuda_memory.h"

namespace mone::cuda_random {

namespace {

const char* curand_status_name(curandStatus_t s) {
  switch (s) {
    case CURAND_STATUS_SUCCESS: return "CURAND_STATUS_SUCCESS";
    case CURAND_STATUS_VERSION_MISMATCH: return "CURAND_STATUS_VERSION_MISMATCH";
    case CURAND_STATUS_NOT_INITIALIZED: return "CURAND_STATUS_NOT_INITIALIZED";
    case CURAND_STATUS_ALLOCATION_FAILED: return "CURAND_STATUS_ALLOCATION_FAILED";
    case CURAND_STATUS_TYPE_ERROR: return "CURAND_STATUS_TYPE_ERROR";
    case CURAND_STATUS_OUT_OF_RANGE: return "CURAND_STATUS_OUT_OF_RANGE";
    case CURAND_STATUS_LENGTH_NOT_MULTIPLE: return "CURAND_STATUS_LENGTH_NOT_MULTIPLE";
    case CURAND_STATUS_DOUBLE_PRECISION_REQUIRED: return "CURAND_STATUS_DOUBLE_PRECISION_REQUIRED";
    case CURAND_STATUS_LAUNCH_FAILURE: return "CURAND_STATUS_LAUNCH_FAILURE";
    case CURAND_STATUS_PREEXISTING_FAILURE: return "CURAND_STATUS_PREEXISTING_FAILURE";
    case CURAND_STATUS_INITIALIZATION_FAILED: return "CURAND_STATUS_INITIALIZATION_FAILED";
    case CURAND_STATUS_ARCH_MISMATCH: return "CURAND_STATUS_ARCH_MISMATCH";
    case CURAND_STATUS_INTERNAL_ERROR: return "CURAND_STATUS_INTERNAL_ERROR";
  }
  return "unknown cuRAND status";
}

// Checks one cuRAND call: "fill_normal (cuRAND curandGenerateNormal): CURAND_STATUS_...".
#define MONE_CURAND(op, call)                                                                       \
  do {                                                                                              \
    const curandStatus_t s_ = (call);                                                               \
    if (s_ != CURAND_STATUS_SUCCESS) {                                                              \
      return absl::InternalError(absl::StrCat(op, " (cuRAND ", #call, "): ", curand_status_name(s_))); \
    }                                                                                               \
  } while (0)

struct GeneratorDeleter {
  void operator()(curandGenerator_t g) const { curandDestroyGenerator(g); }
};
using GeneratorPtr = std::unique_ptr<std::remove_pointer_t<curandGenerator_t>, GeneratorDeleter>;

enum class Distribution { kNormal, kUniform };

// Standard draws (N(0, 1) or U(0, 1]) into a scratch buffer of an even length (cuRAND's normal
// generator makes pairs), in f64 for an f64 tensor and f32 otherwise; then one pass writes
// dst = a · draw + b in dst's dtype.
Status fill(const char* op, Distribution dist, void* dst, DType dtype, int64_t n, int device, uint64_t seed,
            uint64_t offset, double a, double b) {
  if (dtype != DType::kF32 && dtype != DType::kF64 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": a ", dtype_name(dtype), " tensor cannot hold random draws"));
  }
  if (n == 0) return absl::OkStatus();
  const cudaError_t e = cudaSetDevice(device);
  if (e != cudaSuccess) return absl::InternalError(absl::StrCat(op, " (CUDA cudaSetDevice): ", cudaGetErrorString(e)));
  const bool wide = dtype == DType::kF64;
  const int64_t len = n + (n % 2);
  const size_t scratch_bytes = static_cast<size_t>(len) * (wide ? sizeof(double) : sizeof(float));
  MONE_ASSIGN_OR_RETURN(void* scratch, cuda_memory::allocate(scratch_bytes, device));
  const auto release = [&] { cuda_memory::release(scratch, scratch_bytes, device); };
  const Status status = [&]() -> Status {
    curandGenerator_t raw = nullptr;
    MONE_CURAND(op, curandCreateGenerator(&raw, CURAND_RNG_PSEUDO_PHILOX4_32_10));
    GeneratorPtr gen(raw);
    MONE_CURAND(op, curandSetPseudoRandomGeneratorSeed(gen.get(), seed));
    MONE_CURAND(op, curandSetGeneratorOffset(gen.get(), 4 * offset));
    if (dist == Distribution::kNormal) {
      if (wide) MONE_CURAND(op, curandGenerateNormalDouble(gen.get(), static_cast<double*>(scratch), len, 0.0, 1.0));
      else MONE_CURAND(op, curandGenerateNormal(gen.get(), static_cast<float*>(scratch), len, 0.0f, 1.0f));
    } else {
      if (wide) MONE_CURAND(op, curandGenerateUniformDouble(gen.get(), static_cast<double*>(scratch), len));
      else MONE_CURAND(op, curandGenerateUniform(gen.get(), static_cast<float*>(scratch), len));
    }
    cuda_copy::Layout layout;
    layout.ndim = 1;
    layout.dims[0] = n;
    layout.strides[0] = 1;
    const cudaError_t ce = cuda_copy::strided_convert(dst, dtype, scratch, wide ? DType::kF64 : DType::kF32, layout,
                                                      a, b, nullptr);
    if (ce != cudaSuccess) return absl::InternalError(absl::StrCat(op, " (CUDA): ", cudaGetErrorString(ce)));
    // The scratch block goes back to the cache below: wait until the conversion has read it.
    const cudaError_t se = cudaStreamSynchronize(nullptr);
    if (se != cudaSuccess) return absl::InternalError(absl::StrCat(op, " (CUDA): ", cudaGetErrorString(se)));
    return absl::OkStatus();
  }();
  release();
  return status;
}

}  // namespace

Status fill_normal(void* dst, DType dtype, int64_t n, int device, uint64_t seed, uint64_t offset, double mean,
                   double stddev) {
  return fill("fill_normal", Distribution::kNormal, dst, dtype, n, device, seed, offset, stddev, mean);
}

Status fill_uniform(void* dst, DType dtype, int64_t n, int device, uint64_t seed, uint64_t offset, double lo,
                    double hi) {
  return fill("fill_uniform", Distribution::kUniform, dst, dtype, n, device, seed, offset, hi - lo, lo);
}

}  // namespace mone::cuda_random

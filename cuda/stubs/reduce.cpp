// Built without CUDA: stands in for cuda/reduce.cu.
#include "cuda/reduce.h"

namespace mone::cuda {

template <typename T>
cudaError_t sum_all(const T*, int64_t, double, double*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t sum_f64(const double*, int64_t, double, double*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t sum_squares(const T*, int64_t, double*, double*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t sum_last(const T*, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t broadcast_last(const T*, int64_t, int64_t, float, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t sum_rows(const T*, int64_t, int64_t, double*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t sum_partials(const double*, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_REDUCE_LAUNCHERS)

}  // namespace mone::cuda

// Built without CUDA: stands in for cuda/moe_losses.cu.
#include "cuda/moe_losses.h"

namespace mone::cuda {

template <typename T>
cudaError_t load_balance_rows(const T*, const int64_t*, int64_t, int64_t, int64_t, double*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t load_balance_backward(const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t z_loss_rows(const T*, int64_t, int64_t, double*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t z_loss_backward(const T*, const T*, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
cudaError_t neuron_counts(const int32_t*, const int64_t*, int64_t, int64_t, int64_t, int64_t, int64_t*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t neuron_balance_rows(const T*, const int64_t*, const int64_t*, int64_t, int64_t, int64_t, int64_t,
                                ops::NeuronLossForm, double*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t neuron_balance_backward(const T*, const T*, const int64_t*, const int64_t*, int64_t, int64_t, int64_t,
                                    int64_t, ops::NeuronLossForm, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_MOE_LOSSES_LAUNCHERS)

}  // namespace mone::cuda

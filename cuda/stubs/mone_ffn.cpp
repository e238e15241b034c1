// Built without CUDA: stands in for cuda/mone_ffn.cu.
#include "cuda/mone_ffn.h"

namespace mone::cuda {

template <typename T>
cudaError_t neuron_topk(const T*, int64_t, int64_t, int64_t, int32_t*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t select_masked(T*, const T*, const int32_t*, int64_t, int64_t, int64_t, T*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t scatter_selected(const T*, const int32_t*, int64_t, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t gathered_up(const T*, const T*, const T*, const int32_t*, const ExpertRows&, T*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t gathered_sum(const T*, const T*, const int32_t*, const ExpertRows&, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t transpose_experts(const T*, int64_t, int64_t, int64_t, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t hard_backward(const T*, const T*, const T*, const T*, const int32_t*, const T*, int64_t, int64_t, int64_t,
                          ops::Activation, T*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t straight_through_backward(const T*, const T*, const T*, int64_t, ops::Activation, T*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
template <typename T>
cudaError_t gathered_dh(const T*, const T*, const T*, const T*, const T*, const int32_t*, const T*, const ExpertRows&,
                        ops::Activation, T*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}
cudaError_t gathered_weight_grads_workspace(int64_t, size_t*) { return cudaErrorNoDevice; }
template <typename T>
cudaError_t gathered_weight_grads(const T*, const T*, const T*, const T*, const int32_t*, const ExpertRows&, void*,
                                  size_t, T*, T*, cudaStream_t) {
  return cudaErrorNoDevice;
}

MONE_CUDA_FOR_FLOAT_TYPES(MONE_CUDA_MONE_FFN_LAUNCHERS)

}  // namespace mone::cuda

// Built without CUDA: stands in for cuda/attention.cu.
#include "cuda/attention.h"

namespace mone::cuda {

cudaError_t attention_forward(float*, float*, const float*, const float*, const float*, const AttentionDims&,
                              cudaStream_t) {
  return cudaErrorNoDevice;
}
cudaError_t attention_forward(bf16*, float*, const bf16*, const bf16*, const bf16*, const AttentionDims&,
                              cudaStream_t) {
  return cudaErrorNoDevice;
}
cudaError_t attention_backward(float*, float*, float*, float*, const float*, const float*, const float*, const float*,
                               const float*, const float*, const AttentionDims&, cudaStream_t) {
  return cudaErrorNoDevice;
}
cudaError_t attention_backward(bf16*, bf16*, bf16*, float*, const bf16*, const bf16*, const bf16*, const bf16*,
                               const bf16*, const float*, const AttentionDims&, cudaStream_t) {
  return cudaErrorNoDevice;
}

}  // namespace mone::cuda

// CUDA launchers for ops/activation.h, T = float or bf16, computed in f32 (the sigmoid as the
// CPU's stable_sigmoid: e^-|x| never overflows).
// Shape letters: n the element count (activations are elementwise, any shape).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "cuda/launch.h"
#include "ops/op_types.h"

namespace mone::cuda {

// y[i] = act(x[i]).
template <typename T>
cudaError_t activation_forward(ops::Activation act, const T* x, int64_t n, T* y, cudaStream_t stream);
// grad_x[i] = grad_out[i] · act'(x[i]); `in` is the forward's output y for kSigmoid, the input x
// for kSilu (as the CPU kernel).
template <typename T>
cudaError_t activation_backward(ops::Activation act, const T* grad_out, const T* in, int64_t n, T* grad_x,
                                cudaStream_t stream);
// y[i] = silu(gate[i]) · up[i].
template <typename T>
cudaError_t swiglu_forward(const T* gate, const T* up, int64_t n, T* y, cudaStream_t stream);
// grad_gate[i] = grad_out[i] · up[i] · silu'(gate[i]),  grad_up[i] = grad_out[i] · silu(gate[i]).
template <typename T>
cudaError_t swiglu_backward(const T* grad_out, const T* gate, const T* up, int64_t n, T* grad_gate, T* grad_up,
                            cudaStream_t stream);

}  // namespace mone::cuda

#define MONE_CUDA_ACTIVATION_LAUNCHERS(T)                                                                       \
  template cudaError_t activation_forward<T>(ops::Activation, const T*, int64_t, T*, cudaStream_t);            \
  template cudaError_t activation_backward<T>(ops::Activation, const T*, const T*, int64_t, T*, cudaStream_t); \
  template cudaError_t swiglu_forward<T>(const T*, const T*, int64_t, T*, cudaStream_t);                       \
  template cudaError_t swiglu_backward<T>(const T*, const T*, const T*, int64_t, T*, T*, cudaStream_t);

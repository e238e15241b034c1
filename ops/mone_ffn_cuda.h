// The CUDA branch of ops/mone_ffn.h's device switch: the same strategies and estimators as the CPU
// kernel (ops/cpu/mone_ffn.cpp), with every GEMM through cuBLAS, one per expert, and the kernels of
// cuda/mone_ffn.h between them. f32 or bf16 (bf16 activations and weights, f32 accumulation in
// cuBLAS and in every kernel). No float atomics: two runs give the same bits.
//
// Expert segment sizes: the forward copies the offsets [E + 1] to the host once, the layer's one
// device-to-host copy (the stream's earlier work finishes first), to size one GEMM per expert; the
// copy also checks them (0 = offsets[0] <= ... <= offsets[E] = R) and is kept in
// MoneFfnForward::host_offsets, so the backward reads nothing back. Nothing at all is read without
// offsets (one expert over all rows). The kernels find a row's expert from the offsets on the device.
//
// Shape letters: R rows grouped by expert, d model width, E experts, D expert width, K_N kept.
#pragma once

#include "core/tensor.h"
#include "ops/cpu/mone_ffn.h"
#include "ops/mone_ffn.h"

namespace mone::ops {

// Fills f's tensors (allocated by the caller, shaped as dims says) on the GPU.
Status mone_ffn_forward_cuda(const Tensor& x, const Tensor& offsets, const Tensor& w_gate, const Tensor& w_up,
                             const Tensor& w_down, const cpu::MoneDims& dims, const MoneFfnConfig& config,
                             MoneFfnForward& f);

// Fills r's tensors (allocated by the caller) on the GPU; grad_y and grad_g_extra may be undefined.
Status mone_ffn_backward_cuda(const Tensor& grad_y, const Tensor& grad_g_extra, const Tensor& x, const Tensor& offsets,
                              const Tensor& w_gate, const Tensor& w_up, const Tensor& w_down,
                              const MoneFfnForward& fwd, const cpu::MoneDims& dims, const MoneFfnConfig& config,
                              MoneFfnGrads& r);

}  // namespace mone::ops

// Definitions and contracts: ops/cpu/grouped_matmul.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/cpu/grouped_matmul.h"

#include "ops/cpu/moe_gemm.h"

namespace mone::ops::cpu {

template <typename T>
void grouped_matmul_forward(const T* x, const T* const* w, const int64_t* offsets, int64_t e, int64_t in,
                            int64_t out, T* y) {
  for (int64_t j = 0; j < e; ++j) {
    const int64_t r0 = offsets[j], rows = offsets[j + 1] - offsets[j];
    if (rows == 0) continue;
    moe_linear<T>(x + r0 * in, w[j], rows, in, out, T(0), y + r0 * out);  // y_seg = x_seg · W_eᵀ
  }
}

template <typename T>
void grouped_matmul_backward(const T* grad_y, const T* x, const T* const* w, const int64_t* offsets, int64_t e,
                             int64_t in, int64_t out, T* grad_x, T* const* grad_w) {
  for (int64_t j = 0; j < e; ++j) {
    const int64_t r0 = offsets[j], rows = offsets[j + 1] - offsets[j];
    const T* gy = grad_y + r0 * out;
    // grad_x_seg [rows, I] = grad_y_seg [rows, O] · W_e [O, I]
    moe_gemm<T>(false, false, rows, in, out, T(1), gy, out, w[j], in, T(0), grad_x + r0 * in, in);
    // grad_W_e [O, I] = grad_y_segᵀ · x_seg (an empty segment gives zeros)
    moe_gemm<T>(true, false, out, in, rows, T(1), gy, out, x + r0 * in, in, T(0), grad_w[j], in);
  }
}

#define MONE_INSTANTIATE(T)                                                                                    \
  template void grouped_matmul_forward<T>(const T*, const T* const*, const int64_t*, int64_t, int64_t, int64_t, \
                                          T*);                                                                  \
  template void grouped_matmul_backward<T>(const T*, const T*, const T* const*, const int64_t*, int64_t,        \
                                           int64_t, int64_t, T*, T* const*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

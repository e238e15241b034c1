// Definitions and contracts: ops/cpu/moe_dispatch.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/cpu/moe_dispatch.h"

#include <vector>

namespace mone::ops::cpu {

void build_dispatch(const int64_t* expert_ids, int64_t n, int64_t k, int64_t e, int64_t* counts, int64_t* offsets,
                    int64_t* order, int64_t* slot_row) {
  const int64_t pairs = n * k;
  // 1. Histogram of expert ids.
  for (int64_t j = 0; j < e; ++j) counts[j] = 0;
  for (int64_t p = 0; p < pairs; ++p) ++counts[expert_ids[p]];
  // 2. Exclusive prefix sum: where each expert's segment starts.
  offsets[0] = 0;
  for (int64_t j = 0; j < e; ++j) offsets[j + 1] = offsets[j] + counts[j];
  // 3. Place the pairs in increasing pair index p = t·k + s: stable, so ascending token then
  //    slot inside each expert.
  std::vector<int64_t> next(offsets, offsets + e);
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t r = next[expert_ids[p]]++;
    order[r] = p;
    slot_row[p] = r;
  }
}

template <typename T>
void permute_forward(const T* x, const int64_t* order, int64_t rows, int64_t k, int64_t d, T* x_perm) {
#pragma omp parallel for schedule(static) if (rows * d > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const T* src = x + (order[r] / k) * d;
    T* dst = x_perm + r * d;
    for (int64_t i = 0; i < d; ++i) dst[i] = src[i];
  }
}

template <typename T>
void combine_forward(const T* rows, const T* weights, const int64_t* slot_row, int64_t n, int64_t k, int64_t d,
                     T* out) {
#pragma omp parallel for schedule(static) if (n * k * d > 32768)
  for (int64_t t = 0; t < n; ++t) {
    T* o = out + t * d;
    for (int64_t i = 0; i < d; ++i) o[i] = T(0);
    for (int64_t s = 0; s < k; ++s) {  // fixed slot order: deterministic
      const T w = weights == nullptr ? T(1) : weights[t * k + s];
      const T* y = rows + slot_row[t * k + s] * d;
      for (int64_t i = 0; i < d; ++i) o[i] += w * y[i];
    }
  }
}

template <typename T>
void combine_backward(const T* grad_out, const T* y_perm, const T* weights, const int64_t* slot_row, int64_t n,
                      int64_t k, int64_t d, T* grad_y_perm, T* grad_weights) {
#pragma omp parallel for schedule(static) if (n * k * d > 32768)
  for (int64_t t = 0; t < n; ++t) {
    const T* go = grad_out + t * d;
    for (int64_t s = 0; s < k; ++s) {
      const int64_t r = slot_row[t * k + s];
      const T w = weights[t * k + s];
      const T* y = y_perm + r * d;
      T* gy = grad_y_perm + r * d;
      double dot = 0.0;  // d out[t] / d weights[t, s] = y_perm[r] · grad_out[t]
      for (int64_t i = 0; i < d; ++i) {
        gy[i] = w * go[i];
        dot += static_cast<double>(y[i]) * go[i];
      }
      grad_weights[t * k + s] = static_cast<T>(dot);
    }
  }
}

#define MONE_INSTANTIATE(T)                                                                                      \
  template void permute_forward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*);                      \
  template void combine_forward<T>(const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, T*);            \
  template void combine_backward<T>(const T*, const T*, const T*, const int64_t*, int64_t, int64_t, int64_t, T*, \
                                    T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

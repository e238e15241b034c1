#include "ops/cpu/topk.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "ops/cpu/math.h"

namespace mone::ops::cpu {


template <typename T>
void topk_forward(const T* x, int64_t rows, int64_t n, int64_t k, T* values, int64_t* indices) {
#pragma omp parallel if (rows * n > 16384)
  {
    std::vector<int64_t> order(n);  // one scratch buffer per thread
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = x + r * n;
      std::iota(order.begin(), order.end(), int64_t{0});
      std::partial_sort(order.begin(), order.begin() + k, order.end(), TopkBefore<T>{xr});
      for (int64_t i = 0; i < k; ++i) {
        values[r * k + i] = xr[order[i]];
        indices[r * k + i] = order[i];
      }
    }
  }
}

template <typename T>
void topk_backward(const T* grad_values, const int64_t* indices, int64_t rows, int64_t n, int64_t k, T* grad_x) {
  std::fill(grad_x, grad_x + rows * n, T(0));
#pragma omp parallel for schedule(static) if (rows * k > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < k; ++i) grad_x[r * n + indices[r * k + i]] += grad_values[r * k + i];
  }
}

#define MONE_INSTANTIATE(T)                                                              \
  template void topk_forward<T>(const T*, int64_t, int64_t, int64_t, T*, int64_t*);     \
  template void topk_backward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

// RMSNorm kernels. Shape letters: N rows (leading dimensions flattened), d the normalised width.
#include "ops/cpu/norm.h"

#include <algorithm>
#include <cmath>

namespace mone::ops::cpu {

template <typename T>
void rmsnorm_forward(T* y, T* rstd, const T* x, const T* w, int64_t n, int64_t d, double eps) {
#pragma omp parallel for schedule(static) if (n * d > 32768)
  for (int64_t r = 0; r < n; ++r) {
    const T* xr = x + r * d;
    T* yr = y + r * d;
    // mean of squares over the row
    double ss = 0.0;
    for (int64_t i = 0; i < d; ++i) ss += double(xr[i]) * double(xr[i]);
    // reciprocal root mean square (eps keeps an all-zero row finite)
    const double s = 1.0 / std::sqrt(ss / double(d) + eps);
    // normalise, then scale by the learned weight
    for (int64_t i = 0; i < d; ++i) yr[i] = static_cast<T>(double(xr[i]) * s * double(w[i]));
    // keep rstd: the backward needs it
    rstd[r] = static_cast<T>(s);
  }
}

template <typename T>
void rmsnorm_backward(T* grad_x, T* grad_w, const T* grad_y, const T* x, const T* w, const T* rstd, int64_t n,
                      int64_t d) {
  // With xhat = x · rstd and y = xhat ⊙ w:
#pragma omp parallel for schedule(static) if (n * d > 32768)
  for (int64_t r = 0; r < n; ++r) {
    const T* gy = grad_y + r * d;
    const T* xr = x + r * d;
    T* gx = grad_x + r * d;
    const double s = rstd[r];
    // dxhat = grad_y ⊙ w; the one reduction: mean_j(dxhat_j · xhat_j)
    double dot = 0.0;
    for (int64_t i = 0; i < d; ++i) dot += double(gy[i]) * double(w[i]) * double(xr[i]) * s;
    const double mean_dot = d > 0 ? dot / double(d) : 0.0;
    // grad_x = rstd · (dxhat - xhat · mean(dxhat · xhat)): the direct term, minus the term through rstd
    for (int64_t i = 0; i < d; ++i) {
      const double xhat = double(xr[i]) * s;
      gx[i] = static_cast<T>(s * (double(gy[i]) * double(w[i]) - xhat * mean_dot));
    }
  }
  // grad_w = Σ_rows grad_y ⊙ xhat. Each thread owns a block of columns and walks all rows in order,
  // so the sum is the same on any number of threads.
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (d + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (n * d > 32768)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t j0 = blk * kBlock, j1 = std::min(d, j0 + kBlock);
    double acc[kBlock] = {};
    for (int64_t r = 0; r < n; ++r) {
      const double s = rstd[r];
      const T* gy = grad_y + r * d;
      const T* xr = x + r * d;
      for (int64_t j = j0; j < j1; ++j) acc[j - j0] += double(gy[j]) * double(xr[j]) * s;
    }
    for (int64_t j = j0; j < j1; ++j) grad_w[j] = static_cast<T>(acc[j - j0]);
  }
}

#define MONE_INSTANTIATE(T)                                                                  \
  template void rmsnorm_forward<T>(T*, T*, const T*, const T*, int64_t, int64_t, double);    \
  template void rmsnorm_backward<T>(T*, T*, const T*, const T*, const T*, const T*, int64_t, \
                                    int64_t);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

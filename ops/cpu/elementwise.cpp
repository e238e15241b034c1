#include "ops/cpu/elementwise.h"

#include <algorithm>
#include <vector>

namespace mone::ops::cpu {

namespace {
// out[r·m + j] = x[r·m + j] (op) y[j] for rows r < n / m: the broadcast operand repeats every m
// elements. (With m = n this is the plain elementwise case.) The inner loop has no modulo, so the
// compiler vectorises it.
template <typename T, typename Op>
void broadcast_rows(const T* x, int64_t n, const T* y, int64_t m, T* out, bool y_first, Op op) {
  const int64_t rows = n / m;
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * m;
    T* o = out + r * m;
    if (y_first) {
      for (int64_t j = 0; j < m; ++j) o[j] = op(y[j], xr[j]);
    } else {
      for (int64_t j = 0; j < m; ++j) o[j] = op(xr[j], y[j]);
    }
  }
}

template <typename T, typename Op>
void binary_with(const T* a, int64_t na, const T* b, int64_t nb, T* out, Op op) {
  if (na >= nb) {
    broadcast_rows(a, na, b, nb, out, /*y_first=*/false, op);
  } else {
    broadcast_rows(b, nb, a, na, out, /*y_first=*/true, op);
  }
}
}  // namespace

template <typename T>
void binary_forward(BinaryOp op, const T* a, int64_t na, const T* b, int64_t nb, T* out) {
  switch (op) {
    case BinaryOp::kAdd: return binary_with(a, na, b, nb, out, [](T x, T y) { return x + y; });
    case BinaryOp::kSub: return binary_with(a, na, b, nb, out, [](T x, T y) { return x - y; });
    case BinaryOp::kMul: return binary_with(a, na, b, nb, out, [](T x, T y) { return x * y; });
  }
}

template <typename T>
void sum_rows(const T* in, int64_t n, int64_t m, T* out) {
  const int64_t rows = m == 0 ? 0 : n / m;
  // Accumulate in double for f32 too: these sums feed gradients of broadcast operands.
  std::vector<double> acc(m, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = in + r * m;
    for (int64_t j = 0; j < m; ++j) acc[j] += row[j];
  }
  for (int64_t j = 0; j < m; ++j) out[j] = static_cast<T>(acc[j]);
}

template <typename T>
void scale(const T* a, int64_t n, T s, T* out) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) out[i] = s * a[i];
}

template <typename T>
void clamp(const T* x, int64_t n, T lo, T hi, T* out) {
  // Written as comparisons (not std::clamp) so that a NaN input stays NaN, as in PyTorch.
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
}

template <typename T>
void clamp_backward(const T* grad_out, const T* x, int64_t n, T lo, T hi, T* grad_x) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) grad_x[i] = (x[i] >= lo && x[i] <= hi) ? grad_out[i] : T(0);
}

#define MONE_INSTANTIATE(T)                                                            \
  template void binary_forward<T>(BinaryOp, const T*, int64_t, const T*, int64_t, T*); \
  template void sum_rows<T>(const T*, int64_t, int64_t, T*);                           \
  template void scale<T>(const T*, int64_t, T, T*);                                    \
  template void clamp<T>(const T*, int64_t, T, T, T*);                                 \
  template void clamp_backward<T>(const T*, const T*, int64_t, T, T, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

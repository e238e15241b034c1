// RoPE rotation kernels. Shape letters: B batch, T sequence, H heads, hd head dim.
#include "ops/cpu/rope.h"

#include <cmath>

namespace mone::ops::cpu {

RopeTable rope_table(int64_t t, int64_t hd, int64_t position_offset, double theta) {
  const int64_t half = hd / 2;
  RopeTable table;
  table.cos.resize(t * half);
  table.sin.resize(t * half);
  for (int64_t i = 0; i < half; ++i) {
    // frequency of pair i: theta^(-2i/hd), from 1 (fastest) down towards 1/theta
    const double freq = std::pow(theta, -2.0 * double(i) / double(hd));
    for (int64_t p = 0; p < t; ++p) {
      const double angle = double(position_offset + p) * freq;
      table.cos[p * half + i] = std::cos(angle);
      table.sin[p * half + i] = std::sin(angle);
    }
  }
  return table;
}

template <typename T>
void rope_rotate(T* y, const T* x, const RopeTable& table, int64_t b, int64_t t, int64_t h, int64_t hd, bool inverse) {
  const int64_t half = hd / 2;
  const double sign = inverse ? -1.0 : 1.0;
#pragma omp parallel for collapse(2) schedule(static) if (b * t * h * hd > 32768)
  for (int64_t bi = 0; bi < b; ++bi) {
    for (int64_t p = 0; p < t; ++p) {
      const double* c = table.cos.data() + p * half;
      const double* s = table.sin.data() + p * half;
      for (int64_t hi = 0; hi < h; ++hi) {
        const int64_t base = ((bi * t + p) * h + hi) * hd;
        for (int64_t i = 0; i < half; ++i) {
          const double x1 = x[base + i], x2 = x[base + i + half], sn = sign * s[i];
          y[base + i] = static_cast<T>(x1 * c[i] - x2 * sn);
          y[base + i + half] = static_cast<T>(x2 * c[i] + x1 * sn);
        }
      }
    }
  }
}

#define MONE_INSTANTIATE(T) \
  template void rope_rotate<T>(T*, const T*, const RopeTable&, int64_t, int64_t, int64_t, int64_t, bool);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

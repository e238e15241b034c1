// Definitions and contracts: ops/cpu/gathered.h.
// Shape letters: n picked rows, d the row length.
#include "ops/cpu/gathered.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "ops/cpu/cpu_features.h"

namespace mone::ops::cpu {

namespace {

// ---- portable loops ------------------------------------------------------------------------

template <typename T>
void gather_dot_portable(const T* rows, const int32_t* ids, int64_t n, const T* v, int64_t d, T* out) {
  for (int64_t i = 0; i < n; ++i) {
    const T* r = rows + static_cast<int64_t>(ids[i]) * d;
    T s = T(0);
    for (int64_t c = 0; c < d; ++c) s += r[c] * v[c];
    out[i] = s;
  }
}

template <typename T>
void gather_axpy_portable(const T* rows, const int32_t* ids, const T* coef, int64_t n, int64_t d, T* out) {
  std::fill(out, out + d, T(0));
  for (int64_t i = 0; i < n; ++i) {
    const T* r = rows + static_cast<int64_t>(ids[i]) * d;
    const T a = coef[i];
    for (int64_t c = 0; c < d; ++c) out[c] += a * r[c];
  }
}

// ---- AVX2 + FMA (float) --------------------------------------------------------------------
// The scalar tails call std::fma, never `s += a * b`: whether a compiler contracts the latter into
// an FMA is its choice, and the in-place and transposed paths must round alike.

__attribute__((target("avx2,fma"))) inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// Four picked rows at a time share each load of v. The accumulators are named variables, not an
// array, so that they stay in registers (GCC at -O2 keeps a small array on the stack).
__attribute__((target("avx2,fma"))) void gather_dot_avx2(const float* rows, const int32_t* ids, int64_t n,
                                                         const float* v, int64_t d, float* out) {
  const int64_t d8 = d / 8 * 8;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float* r0 = rows + static_cast<int64_t>(ids[i]) * d;
    const float* r1 = rows + static_cast<int64_t>(ids[i + 1]) * d;
    const float* r2 = rows + static_cast<int64_t>(ids[i + 2]) * d;
    const float* r3 = rows + static_cast<int64_t>(ids[i + 3]) * d;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t c = 0; c < d8; c += 8) {
      const __m256 x = _mm256_loadu_ps(v + c);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + c), x, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + c), x, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + c), x, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + c), x, a3);
    }
    float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (int64_t c = d8; c < d; ++c) {
      s0 = std::fma(r0[c], v[c], s0);
      s1 = std::fma(r1[c], v[c], s1);
      s2 = std::fma(r2[c], v[c], s2);
      s3 = std::fma(r3[c], v[c], s3);
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < n; ++i) {
    const float* r = rows + static_cast<int64_t>(ids[i]) * d;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t c = 0; c < d8; c += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(r + c), _mm256_loadu_ps(v + c), acc);
    float s = hsum(acc);
    for (int64_t c = d8; c < d; ++c) s = std::fma(r[c], v[c], s);
    out[i] = s;
  }
}

// The output is built 64 floats at a time in eight registers (named, as above), so each picked
// row costs one load per FMA and the output is written once.
__attribute__((target("avx2,fma"))) void gather_axpy_avx2(const float* rows, const int32_t* ids, const float* coef,
                                                          int64_t n, int64_t d, float* out) {
  constexpr int64_t kAhead = 4;  // rows prefetched ahead
  int64_t c0 = 0;
  for (; c0 + 64 <= d; c0 += 64) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    __m256 a4 = _mm256_setzero_ps(), a5 = _mm256_setzero_ps(), a6 = _mm256_setzero_ps(), a7 = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; ++i) {
      const float* r = rows + static_cast<int64_t>(ids[i]) * d + c0;
      if (i + kAhead < n) {  // the rows are picked, so the hardware cannot guess the next ones
        const char* next = reinterpret_cast<const char*>(rows + static_cast<int64_t>(ids[i + kAhead]) * d + c0);
        for (int line = 0; line < 4; ++line) _mm_prefetch(next + 64 * line, _MM_HINT_T0);
      }
      const __m256 a = _mm256_set1_ps(coef[i]);
      a0 = _mm256_fmadd_ps(a, _mm256_loadu_ps(r), a0);
      a1 = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 8), a1);
      a2 = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 16), a2);
      a3 = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 24), a3);
      a4 = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 32), a4);
      a5 = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 40), a5);
      a6 = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 48), a6);
      a7 = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 56), a7);
    }
    float* o = out + c0;
    _mm256_storeu_ps(o, a0);
    _mm256_storeu_ps(o + 8, a1);
    _mm256_storeu_ps(o + 16, a2);
    _mm256_storeu_ps(o + 24, a3);
    _mm256_storeu_ps(o + 32, a4);
    _mm256_storeu_ps(o + 40, a5);
    _mm256_storeu_ps(o + 48, a6);
    _mm256_storeu_ps(o + 56, a7);
  }
  for (; c0 + 8 <= d; c0 += 8) {  // then 8 at a time
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; ++i) {
      acc = _mm256_fmadd_ps(_mm256_set1_ps(coef[i]), _mm256_loadu_ps(rows + static_cast<int64_t>(ids[i]) * d + c0), acc);
    }
    _mm256_storeu_ps(out + c0, acc);
  }
  if (c0 < d) {  // the last d mod 8 columns
    std::fill(out + c0, out + d, 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const float* r = rows + static_cast<int64_t>(ids[i]) * d;
      const float a = coef[i];
      for (int64_t c = c0; c < d; ++c) out[c] = std::fma(a, r[c], out[c]);
    }
  }
}

template <typename T>
void gather_columns_axpy_portable(const T* mat, int64_t rows, int64_t cols, const int32_t* ids, const T* coef,
                                  int64_t n, T* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = mat + r * cols;
    T s = T(0);
    for (int64_t i = 0; i < n; ++i) s += coef[i] * row[ids[i]];
    out[r] = s;
  }
}

// Eight outputs at a time: one gather of mat[r..r+8, ids[i]] and one FMA per picked column, as
// gather_axpy_avx2 does one load and one FMA per picked row; the last rows mod 8 as its last
// columns.
__attribute__((target("avx2,fma"))) void gather_columns_axpy_avx2(const float* mat, int64_t rows, int64_t cols,
                                                                  const int32_t* ids, const float* coef, int64_t n,
                                                                  float* out) {
  const int32_t c = static_cast<int32_t>(cols);
  const __m256i lanes = _mm256_setr_epi32(0, c, 2 * c, 3 * c, 4 * c, 5 * c, 6 * c, 7 * c);
  int64_t r0 = 0;
  for (; r0 + 8 <= rows; r0 += 8) {
    const float* base = mat + r0 * cols;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; ++i) {
      const __m256 v = _mm256_i32gather_ps(base, _mm256_add_epi32(lanes, _mm256_set1_epi32(ids[i])), 4);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(coef[i]), v, acc);
    }
    _mm256_storeu_ps(out + r0, acc);
  }
  if (r0 < rows) {
    std::fill(out + r0, out + rows, 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const float a = coef[i];
      for (int64_t r = r0; r < rows; ++r) out[r] = std::fma(a, mat[r * cols + ids[i]], out[r]);
    }
  }
}

template <typename T>
void gather_columns_dot_portable(const T* mat, int64_t rows, int64_t cols, const int32_t* ids, int64_t n, const T* v,
                                 T* out) {
  for (int64_t i = 0; i < n; ++i) {
    const T* col = mat + ids[i];
    T s = T(0);
    for (int64_t r = 0; r < rows; ++r) s += col[r * cols] * v[r];
    out[i] = s;
  }
}

// Per picked column, eight partial sums over rows r = lane mod 8 (one gather of eight rows of the
// column per step), reduced by hsum, then the last rows mod 8: gather_dot_avx2's arithmetic on a
// row of the transpose, step for step.
__attribute__((target("avx2,fma"))) void gather_columns_dot_avx2(const float* mat, int64_t rows, int64_t cols,
                                                                 const int32_t* ids, int64_t n, const float* v,
                                                                 float* out) {
  const int32_t c = static_cast<int32_t>(cols);
  const __m256i lanes = _mm256_setr_epi32(0, c, 2 * c, 3 * c, 4 * c, 5 * c, 6 * c, 7 * c);
  const int64_t r8 = rows / 8 * 8;
  for (int64_t i = 0; i < n; ++i) {
    const float* col = mat + ids[i];
    __m256 acc = _mm256_setzero_ps();
    for (int64_t r = 0; r < r8; r += 8) {
      acc = _mm256_fmadd_ps(_mm256_i32gather_ps(col + r * cols, lanes, 4), _mm256_loadu_ps(v + r), acc);
    }
    float s = hsum(acc);
    for (int64_t r = r8; r < rows; ++r) s = std::fma(col[r * cols], v[r], s);
    out[i] = s;
  }
}

}  // namespace

template <>
void gather_dot<float>(const float* rows, const int32_t* ids, int64_t n, const float* v, int64_t d, float* out) {
  if (has_avx2_fma()) return gather_dot_avx2(rows, ids, n, v, d, out);
  gather_dot_portable(rows, ids, n, v, d, out);
}

template <>
void gather_dot<double>(const double* rows, const int32_t* ids, int64_t n, const double* v, int64_t d, double* out) {
  gather_dot_portable(rows, ids, n, v, d, out);
}

template <>
void gather_axpy<float>(const float* rows, const int32_t* ids, const float* coef, int64_t n, int64_t d, float* out) {
  if (has_avx2_fma()) return gather_axpy_avx2(rows, ids, coef, n, d, out);
  gather_axpy_portable(rows, ids, coef, n, d, out);
}

template <>
void gather_axpy<double>(const double* rows, const int32_t* ids, const double* coef, int64_t n, int64_t d,
                         double* out) {
  gather_axpy_portable(rows, ids, coef, n, d, out);
}

template <>
void gather_columns_axpy<float>(const float* mat, int64_t rows, int64_t cols, const int32_t* ids, const float* coef,
                                int64_t n, float* out) {
  if (has_avx2_fma()) return gather_columns_axpy_avx2(mat, rows, cols, ids, coef, n, out);
  gather_columns_axpy_portable(mat, rows, cols, ids, coef, n, out);
}

template <>
void gather_columns_axpy<double>(const double* mat, int64_t rows, int64_t cols, const int32_t* ids,
                                 const double* coef, int64_t n, double* out) {
  gather_columns_axpy_portable(mat, rows, cols, ids, coef, n, out);
}

template <>
void gather_columns_dot<float>(const float* mat, int64_t rows, int64_t cols, const int32_t* ids, int64_t n,
                               const float* v, float* out) {
  if (has_avx2_fma()) return gather_columns_dot_avx2(mat, rows, cols, ids, n, v, out);
  gather_columns_dot_portable(mat, rows, cols, ids, n, v, out);
}

template <>
void gather_columns_dot<double>(const double* mat, int64_t rows, int64_t cols, const int32_t* ids, int64_t n,
                                const double* v, double* out) {
  gather_columns_dot_portable(mat, rows, cols, ids, n, v, out);
}

template <typename T>
void transpose(const T* in, int64_t rows, int64_t cols, T* out) {
  constexpr int64_t kTile = 32;  // tiles keep both sides' lines in cache
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) out[c * rows + r] = in[r * cols + c];
      }
    }
  }
}
template void transpose<float>(const float*, int64_t, int64_t, float*);
template void transpose<double>(const double*, int64_t, int64_t, double*);

}  // namespace mone::ops::cpu

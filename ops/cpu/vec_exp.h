// e^x and σ(x) on eight float lanes (AVX2 + FMA), for the CPU loops that spend their time in exp:
// cross-entropy over the vocabulary (ops/cpu/cross_entropy.cpp), and the activations of the
// experts' gates and of SwiGLU (ops/cpu/activation.cpp). A caller takes these only where
// has_avx2_fma() (ops/cpu/cpu_features.h) says yes and keeps math.h's scalar loop elsewhere; double
// always keeps math.h (libm's exp), so the f64 gradchecks do not depend on this file.
//
// exp8 is Cephes' expf: x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (Cody–Waite: ln2
// split into a part whose products with n are exact, and a small rest), e^r by a degree-6
// polynomial, then 2^n applied as two exact powers of two, 2^⌊n/2⌋ · 2^(n−⌊n/2⌋), so that results
// down to the subnormals round once. It is within 1 ulp of the correctly rounded e^x over the whole
// float range, and equal to it for 99.2% of inputs (every 7th float of [−104, 89] measured;
// tests/ops/test_vec_exp.cpp sweeps every 61st). x is clamped to [−104, 88.8] first, which
// changes no result: e^x rounds to 0 below −103.98 and overflows to +inf above 88.73. NaN stays NaN.
//
// Every lane is computed on its own, so a result does not depend on where its element sits in an
// array or on how a loop splits the array (threads): the bits are those of this code on any CPU
// with AVX2 + FMA.
#pragma once

#include <immintrin.h>

#include <cstdint>

#define MONE_AVX2 __attribute__((target("avx2,fma"), always_inline))

namespace mone::ops::cpu::avx2 {

// Lanes [0, rem) set, the others clear (rem < 8): the mask of an array's last, partial group.
MONE_AVX2 inline __m256i tail_mask(int64_t rem) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The eight floats at p, or, with rem < 8 of them left, those rem and `fill` in the other lanes.
MONE_AVX2 inline __m256 load8(const float* p, int64_t rem, float fill = 0.0f) {
  if (rem >= 8) return _mm256_loadu_ps(p);
  const __m256i mask = tail_mask(rem);
  return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
}

// Stores the first min(rem, 8) lanes of v at p.
MONE_AVX2 inline void store8(float* p, __m256 v, int64_t rem) {
  if (rem >= 8) return _mm256_storeu_ps(p, v);
  _mm256_maskstore_ps(p, tail_mask(rem), v);
}

// e^x on each lane (the method: this file's head).
MONE_AVX2 inline __m256 exp8(__m256 x) {
  const __m256 c = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.8f)), _mm256_set1_ps(-104.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(c, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), c);  // ln2's high part: n · it is exact
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);      // and the rest
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));  // e^r
  // 2^n = 2^n1 · 2^n2 with n1 = ⌊n/2⌋: n lies in [−150, 128], so each factor is a normal float.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN in, NaN out
}

// σ(x) = 1 / (1 + e^−x) on each lane, without overflow: e = e^−|x| never exceeds 1, and
// σ = 1 / (1 + e) for x >= 0, e / (1 + e) below (as math.h's sigmoid).
MONE_AVX2 inline __m256 sigmoid8(__m256 x) {
  const __m256 e = exp8(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));  // e^−|x|
  const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
  return _mm256_blendv_ps(inv, _mm256_mul_ps(e, inv), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}

// silu'(x) = σ (1 + x (1 − σ)), given s = σ(x) (math.h's silu_grad).
MONE_AVX2 inline __m256 silu_grad8(__m256 x, __m256 s) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_mul_ps(s, _mm256_fmadd_ps(x, _mm256_sub_ps(one, s), one));
}

}  // namespace mone::ops::cpu::avx2

// A row's logsumexp, softmax and shifted exponentials: the loops of cross-entropy over the
// vocabulary and of attention over the keys, written once. They follow math.h's definitions
// (the max subtracted, exponentials in T, sums in double); float runs eight lanes of
// ops/cpu/vec_exp.h's exp8 where the CPU has AVX2 + FMA, double (the gradchecks) and float
// elsewhere run math.h's scalar loops.
// Shape letters: n the length of one row (n > 0).
#pragma once

#include <cstdint>

namespace mone::ops::cpu {

// log Σ_j exp(x_j), as math.h's logsumexp: +inf and all −inf are returned as they are, any NaN
// gives NaN.
template <typename T>
double row_logsumexp(const T* x, int64_t n);

// p = softmax(x) over n finite elements (p may alias x), as math.h's softmax; returns
// logsumexp(x).
template <typename T>
double row_softmax(const T* x, int64_t n, T* p);

// out[j] = exp(x[j] − shift) (out may alias x).
template <typename T>
void row_exp_shifted(const T* x, int64_t n, T shift, T* out);

}  // namespace mone::ops::cpu

// The MoNE neuron top-K_N of one row, I = the K_N largest |G_j| in the top-k order of
// ops/cpu/math.h (NaN first, ties to the lower index), written in ascending neuron order: the
// thread-block body of cuda/mone_ffn.cu's select kernel, written once for the GPU and for a CPU
// emulation of a thread block (tests/cuda/test_neuron_select.cpp), as cuda/attention_tiles.h is.
//
// A radix select over the 31-bit keys abs_key(G_j) (the CPU's abs_order_key: the bits of |G_j|,
// every NaN above +inf) finds the threshold τ, the K_N-th largest key, one digit at a time (bits
// [20, 31), [9, 20), [0, 9)): a histogram of the digit over the keys that match the digits found
// so far, and a walk down from the top bucket to the one holding the rank still needed. Then every
// key above τ is kept, and of the keys equal to τ the first `need` in neuron order, so ties go to
// the lower index. The output positions come from per-thread counts over contiguous chunks of the
// row and their exclusive prefix, so the kept neurons land in ascending order. No sort, no global
// memory beyond the row and its output, and any D (each step loops over the row).
//
// A body is a fixed sequence of steps; a step is a lambda (tid) run by every thread of the block,
// and a barrier follows each (Ex::step). Control flow between steps is the same for every thread.
// The one shared counter update (the histogram) is an atomicAdd on the GPU, whose result does not
// depend on the order, and a plain increment in the emulation, whose threads run one at a time.
//
// Shape letters: D expert width (the row length), K_N kept (1 <= K_N <= D).
#pragma once

#include <cstdint>
#include <cstring>

#include "cuda/hd.h"

namespace mone::cuda::neuron_select {

constexpr int kThreads = 256;      // threads per block
constexpr int kMaxBuckets = 2048;  // 11-bit digits
constexpr int kPasses = 3;

// The digits of the 31-bit key, most significant first: bits [20, 31), [9, 20), [0, 9).
MONE_HD int digit_shift(int pass) { return pass == 0 ? 20 : pass == 1 ? 9 : 0; }
MONE_HD int digit_bits(int pass) { return pass == 2 ? 9 : 11; }

// The order key of |v| (ops/cpu/math.h's abs_order_key for f32): the bits of |v|, monotone in
// |v|, with every NaN one key above +inf. The top bit is always clear.
MONE_HD uint32_t abs_key(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof(u));
  u &= 0x7fffffffu;
  return u > 0x7f800000u ? 0x7fffffffu : u;
}

struct Shared {
  int32_t hist[kMaxBuckets];
  int32_t above_part[kThreads];  // per thread: a run of buckets' sum; then keys above τ in its chunk
  int32_t equal_part[kThreads];  // per thread: keys equal to τ in its chunk
  uint32_t prefix;               // τ's digits found so far
  int32_t need;                  // how many of the keys matching `prefix` are still to be kept
};

// One thread's increment of a shared counter.
MONE_HD void count_one(int32_t* p) {
#if defined(__CUDA_ARCH__)
  atomicAdd(p, 1);
#else
  ++*p;
#endif
}

// out[0, K_N) = the kept neurons of the row whose value j is load(j) (a float), ascending.
template <class Ex, class Load>
MONE_HD void select_row(Ex& ex, Shared& sh, Load load, int64_t D, int64_t k_n, int32_t* out) {
  ex.step([&](int tid) {
    if (tid == 0) {
      sh.prefix = 0;
      sh.need = static_cast<int32_t>(k_n);
    }
  });
  for (int pass = 0; pass < kPasses; ++pass) {
    const int shift = digit_shift(pass), buckets = 1 << digit_bits(pass), per = buckets / kThreads;
    const int high = shift + digit_bits(pass);  // the digits at and above `high` are τ's, found already
    ex.step([&](int tid) {
      for (int b = tid; b < buckets; b += kThreads) sh.hist[b] = 0;
    });
    // Histogram of this digit over the keys that match τ's higher digits.
    ex.step([&](int tid) {
      for (int64_t j = tid; j < D; j += kThreads) {
        const uint32_t key = abs_key(load(j));
        if ((key >> high) == (sh.prefix >> high)) count_one(&sh.hist[(key >> shift) & (buckets - 1)]);
      }
    });
    ex.step([&](int tid) {
      int32_t s = 0;
      for (int b = tid * per; b < (tid + 1) * per; ++b) s += sh.hist[b];
      sh.above_part[tid] = s;
    });
    // From the top bucket down to the one that holds the need-th largest matching key: its digit
    // is τ's, and the keys in the buckets above it are above τ (need drops by their number).
    ex.step([&](int tid) {
      if (tid != 0) return;
      int32_t need = sh.need;
      int t = kThreads - 1;
      while (sh.above_part[t] < need) need -= sh.above_part[t--];
      int b = (t + 1) * per - 1;
      while (sh.hist[b] < need) need -= sh.hist[b--];
      sh.prefix |= static_cast<uint32_t>(b) << shift;
      sh.need = need;
    });
  }
  // τ = prefix: keep every key above it and the first `need` keys equal to it, in neuron order.
  const int64_t chunk = (D + kThreads - 1) / kThreads;
  ex.step([&](int tid) {
    int32_t above = 0, equal = 0;
    for (int64_t j = tid * chunk; j < D && j < (tid + 1) * chunk; ++j) {
      const uint32_t key = abs_key(load(j));
      above += key > sh.prefix;
      equal += key == sh.prefix;
    }
    sh.above_part[tid] = above;
    sh.equal_part[tid] = equal;
  });
  ex.step([&](int tid) {  // exclusive prefixes over the chunks
    if (tid != 0) return;
    int32_t above = 0, equal = 0;
    for (int t = 0; t < kThreads; ++t) {
      const int32_t a = sh.above_part[t], e = sh.equal_part[t];
      sh.above_part[t] = above;
      sh.equal_part[t] = equal;
      above += a;
      equal += e;
    }
  });
  ex.step([&](int tid) {
    const int32_t need = sh.need;
    int32_t above = sh.above_part[tid], equal = sh.equal_part[tid];
    for (int64_t j = tid * chunk; j < D && j < (tid + 1) * chunk; ++j) {
      const uint32_t key = abs_key(load(j));
      if (key > sh.prefix) {
        out[above + (equal < need ? equal : need)] = static_cast<int32_t>(j);
        ++above;
      } else if (key == sh.prefix) {
        if (equal < need) out[above + equal] = static_cast<int32_t>(j);
        ++equal;
      }
    }
  });
}

}  // namespace mone::cuda::neuron_select

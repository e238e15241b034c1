// Flash-attention tiles: the thread-block bodies of the CUDA attention kernels (cuda/attention.cu),
// written once for the GPU and for a CPU emulation of a thread block (tests/cuda/test_attention_tiles.cpp).
//
// Shape letters: B batch, Tq query rows, Tk key rows, H query heads, Hkv kv heads, hd head dim;
// HD the head dim a kernel is compiled for (32, 64 or 128; hd <= HD, the rest is zero padding).
//
// A block body is a fixed sequence of steps; control flow between steps depends only on the block
// index, so every thread takes the same path. A step is a lambda (tid, state) run by every thread
// of the block, and a barrier follows each step. On the GPU, Exec::step runs the lambda for
// threadIdx.x on that thread's registers, then calls __syncthreads(); the emulation runs it for
// every tid in turn, each with its own state. So the code between two barriers is the same on both,
// and a CPU test checks the tiling, the causal mask, the online softmax and every write.
//
// Never the Tq×Tk matrix: a block keeps one tile of scores at a time. The forward saves the row
// logsumexp; the backward recomputes P from it (FlashAttention-2). The backward is deterministic
// without atomics: one block owns a tile of 32 keys and loops over every query tile and every query
// head of its kv group (grad_k, grad_v); another kernel owns a tile of 64 queries and loops over the
// keys (grad_q). Arithmetic is f32 whatever the element type; scores are kept in log2 units
// (S · log2 e) so that exp2 does the exponentials.
//
// Plain C++17: nvcc compiles it for the kernels, g++ for the emulation. Element types: float, and
// mone::bf16 through Elem<bf16>, which cuda/attention.cu and the test define for their side.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "cuda/attention.h"
#include "cuda/hd.h"

namespace mone::cuda::attention_tiles {

constexpr int kThreads = 128;  // threads per block, every kernel
constexpr int kLanes = 8;      // threads that share a row of a tile and split its columns
constexpr float kNegInf = -__builtin_huge_valf();
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// Tile sizes for head dim HD. Rows are what a block owns (64 queries for the forward and grad_q,
// 32 keys for grad_k/grad_v); a step walks kCols of the other side (keys, or queries for grad_k).
// Shared tiles hold f32 rows padded by 4 floats, so that the 8 threads of a row read 8 different
// 16-byte bank groups.
template <int HD>
struct Tiles {
  static_assert(HD == 32 || HD == 64 || HD == 128, "head dim tiles: 32, 64 or 128");
  static_assert(kThreads >= 64, "one thread per query column loads lse and delta");
  static constexpr int kQueryRows = 64, kQueryTm = 4;  // forward, grad_q: 16 row groups × 4 rows
  static constexpr int kKeyRows = 32, kKeyTm = 2;      // grad_k, grad_v: 16 row groups × 2 rows
  static constexpr int kCols = HD > 64 ? 32 : 64;
  static constexpr int kCn = kCols / kLanes;  // columns of a score tile per thread
  static constexpr int kHn = HD / kLanes;     // head-dim columns per thread: 4·tx + 32u + e
  static constexpr int kLd = HD + 4;          // row stride of [rows, HD] tiles
  static constexpr int kLdc = kCols + 4;      // row stride of [rows, kCols] tiles

  // Shared floats per kernel (cuda/attention.cu multiplies by 4 for the launch).
  static constexpr int kForwardFloats = kQueryRows * kLd + 2 * kCols * kLd + kQueryRows * kLdc + kQueryRows * kLanes;
  static constexpr int kGradQFloats = 2 * kQueryRows * kLd + 2 * kCols * kLd + kQueryRows * kLdc;
  static constexpr int kGradKvFloats = 2 * kKeyRows * kLd + 2 * kCols * kLd + 2 * kKeyRows * kLdc + 2 * kCols;
};

// The padded head dim the kernels use for hd (0 when hd is above kAttentionMaxHeadDim).
MONE_HD int padded_head_dim(int64_t hd) { return hd <= 32 ? 32 : hd <= 64 ? 64 : hd <= 128 ? 128 : 0; }

MONE_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- layout of the tensors (contiguous q, out [B, Tq, H, hd]; k, v [B, Tk, Hkv, hd]) ----

MONE_HD int64_t q_row(const AttentionDims& d, int64_t bi, int64_t t, int64_t hh) { return ((bi * d.tq + t) * d.h + hh) * d.hd; }
MONE_HD int64_t kv_row(const AttentionDims& d, int64_t bi, int64_t t, int64_t g) {
  return ((bi * d.tk + t) * d.hkv + g) * d.hd;
}
MONE_HD int64_t row_stat(const AttentionDims& d, int64_t bi, int64_t hh, int64_t i) { return (bi * d.h + hh) * d.tq + i; }
// Query i (of Tq) sees key j (of Tk): the queries are the last Tq of the Tk positions.
MONE_HD bool visible(const AttentionDims& d, int64_t i, int64_t j) { return i < d.tq && j < d.tk && j <= i + d.tk - d.tq; }

// Blocks per kernel.
template <int HD>
MONE_HD int64_t query_blocks(const AttentionDims& d) {
  return d.b * d.h * ceil_div(d.tq, Tiles<HD>::kQueryRows);
}
template <int HD>
MONE_HD int64_t key_blocks(const AttentionDims& d) {
  return d.b * d.hkv * ceil_div(d.tk, Tiles<HD>::kKeyRows);
}

// What the kernels read and write. scale = 1/sqrt(hd); vec: every row starts 4-element aligned
// (hd % 4 == 0 and aligned bases), so rows load 4 elements at a time.
template <typename T>
struct ForwardArgs {
  T* out;
  float* lse;
  const T* q;
  const T* k;
  const T* v;
  AttentionDims d;
  float scale;
  bool vec;
};

template <typename T>
struct BackwardArgs {
  T* grad_q;
  T* grad_k;
  T* grad_v;
  float* delta;  // [B, H, Tq] scratch: rowsum(grad_out ⊙ out), written by delta_row
  const T* grad_out;
  const T* q;
  const T* k;
  const T* v;
  const T* out;
  const float* lse;
  AttentionDims d;
  float scale;
  bool vec;
};

// ---- the launch arithmetic, on the host (cuda/attention.cu and the emulation use the same) ----

// Sizes the kernels take: non-negative, H a multiple of Hkv, Tk >= Tq, 1 <= hd <= 128.
inline bool valid_dims(const AttentionDims& d) {
  return d.b >= 0 && d.tq >= 0 && d.tk >= d.tq && d.hkv > 0 && d.h >= 0 && d.h % d.hkv == 0 && d.hd >= 1 &&
         d.hd <= kAttentionMaxHeadDim;
}

// Rows start 4-element aligned: hd % 4 == 0 and every base aligned to 4 elements.
template <typename T>
bool rows_vectorisable(int64_t hd, std::initializer_list<const T*> bases) {
  if (hd % 4 != 0) return false;
  for (const T* p : bases) {
    if (reinterpret_cast<uintptr_t>(p) % (4 * sizeof(T)) != 0) return false;
  }
  return true;
}

// fn(std::integral_constant<int, HD>) for the padded head dim of hd (valid_dims holds).
template <class Fn>
auto with_padded_head_dim(int64_t hd, Fn&& fn) {
  switch (padded_head_dim(hd)) {
    case 32:
      return fn(std::integral_constant<int, 32>{});
    case 64:
      return fn(std::integral_constant<int, 64>{});
    default:
      return fn(std::integral_constant<int, 128>{});
  }
}

inline float softmax_scale(int64_t hd) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd))); }

template <typename T>
ForwardArgs<T> forward_args(T* out, float* lse, const T* q, const T* k, const T* v, const AttentionDims& d) {
  return {out, lse, q, k, v, d, softmax_scale(d.hd), rows_vectorisable(d.hd, {q, k, v})};
}

template <typename T>
BackwardArgs<T> backward_args(T* grad_q, T* grad_k, T* grad_v, float* delta, const T* grad_out, const T* q,
                              const T* k, const T* v, const T* out, const float* lse, const AttentionDims& d) {
  return {grad_q, grad_k, grad_v, delta, grad_out, q, k, v, out, lse, d, softmax_scale(d.hd),
          rows_vectorisable(d.hd, {grad_out, q, k, v})};
}

// ---- elements and shared-memory vectors ----

struct alignas(16) Vec4 {
  float x[4];
};
MONE_HD Vec4 load_vec4(const float* p) { return *reinterpret_cast<const Vec4*>(p); }
MONE_HD void store_vec4(float* p, const Vec4& v) { *reinterpret_cast<Vec4*>(p) = v; }

// load(p) -> float, load4(p) -> Vec4 (p aligned to 4 elements), store(p, float).
template <typename T>
struct Elem;
template <>
struct Elem<float> {
  MONE_HD static float load(const float* p) { return *p; }
  MONE_HD static Vec4 load4(const float* p) { return load_vec4(p); }
  MONE_HD static void store(float* p, float x) { *p = x; }
};

// ---- tile primitives (tid = ty · kLanes + tx: ty picks rows, tx columns) ----

// dst[r, c] = src[row0 + r, c] in f32 for r < ROWS, c < HD, with rows `ld` elements apart; zero
// where row0 + r >= nrows or c >= hd.
template <typename T, int ROWS, int HD>
MONE_HD void load_tile(float* dst, const T* src, int64_t ld, int64_t row0, int64_t nrows, int64_t hd, bool vec, int tid) {
  constexpr int kChunks = HD / 4;
  for (int i = tid; i < ROWS * kChunks; i += kThreads) {
    const int r = i / kChunks, c = (i % kChunks) * 4;
    Vec4 x = {{0.f, 0.f, 0.f, 0.f}};
    if (row0 + r < nrows && c < hd) {
      const T* p = src + (row0 + r) * ld + c;
      if (vec) {
        x = Elem<T>::load4(p);
      } else {
        MONE_UNROLL
        for (int e = 0; e < 4; ++e) x.x[e] = c + e < hd ? Elem<T>::load(p + e) : 0.f;
      }
    }
    store_vec4(dst + r * (HD + 4) + c, x);
  }
}

// x[r][n] = Σ_c a[ty·TM + r, c] · b[tx + kLanes·n, c]: this thread's part of a bᵀ, for tiles
// a and b of HD columns (row stride HD + 4).
template <int TM, int CN, int HD>
MONE_HD void tile_dot(const float* a, const float* b, int ty, int tx, float (&x)[TM][CN]) {
  constexpr int ld = HD + 4;
  MONE_UNROLL
  for (int r = 0; r < TM; ++r) {
    MONE_UNROLL
    for (int n = 0; n < CN; ++n) x[r][n] = 0.f;
  }
  MONE_UNROLL_2
  for (int c = 0; c < HD; c += 4) {
    Vec4 av[TM], bv[CN];
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) av[r] = load_vec4(a + (ty * TM + r) * ld + c);
    MONE_UNROLL
    for (int n = 0; n < CN; ++n) bv[n] = load_vec4(b + (tx + kLanes * n) * ld + c);
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) {
      MONE_UNROLL
      for (int n = 0; n < CN; ++n) {
        MONE_UNROLL
        for (int e = 0; e < 4; ++e) x[r][n] += av[r].x[e] * bv[n].x[e];
      }
    }
  }
}

// acc[r][4u + e] += Σ_j m[ty·TM + r, j] · w[j, 4·tx + 32u + e] over j < NC: this thread's rows
// and head-dim columns of m w, for m [rows, NC] (row stride NC + 4) and w [NC, HD] (HD + 4).
template <int TM, int NC, int HD>
MONE_HD void tile_acc(const float* m, const float* w, int ty, int tx, float (&acc)[TM][HD / kLanes]) {
  constexpr int ld = HD + 4, ldm = NC + 4;
  for (int j = 0; j < NC; j += 4) {
    Vec4 mv[TM];
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) mv[r] = load_vec4(m + (ty * TM + r) * ldm + j);
    MONE_UNROLL
    for (int jj = 0; jj < 4; ++jj) {
      MONE_UNROLL
      for (int u = 0; u < HD / 32; ++u) {
        const Vec4 wv = load_vec4(w + (j + jj) * ld + 4 * tx + 32 * u);
        MONE_UNROLL
        for (int r = 0; r < TM; ++r) {
          MONE_UNROLL
          for (int e = 0; e < 4; ++e) acc[r][4 * u + e] += mv[r].x[jj] * wv.x[e];
        }
      }
    }
  }
}

// dst[c] = (acc[4u + e] · s) for the head-dim columns c = 4·tx + 32u + e below hd.
template <typename T, int HD>
MONE_HD void store_row(T* dst, const float (&acc)[HD / kLanes], float s, int tx, int64_t hd) {
  MONE_UNROLL
  for (int u = 0; u < HD / 32; ++u) {
    MONE_UNROLL
    for (int e = 0; e < 4; ++e) {
      const int c = 4 * tx + 32 * u + e;
      if (c < hd) Elem<T>::store(dst + c, acc[4 * u + e] * s);
    }
  }
}

// ---- which rows a block owns ----

// A query-row block (forward, grad_q): batch bi, query head hh reading kv head g, query rows
// [q0, q0 + kQueryRows), and keys [0, kend), those some row of the block sees. Block indices run
// the longest query tiles (the last rows see the most keys) first.
struct QueryBlock {
  int64_t bi, hh, g, q0, kend;
};
template <int HD>
MONE_HD QueryBlock query_block(const AttentionDims& d, int64_t block) {
  constexpr int kRows = Tiles<HD>::kQueryRows;
  const int64_t heads = d.b * d.h, bh = block % heads, hh = bh % d.h;
  const int64_t q0 = (ceil_div(d.tq, kRows) - 1 - block / heads) * kRows;
  return {bh / d.h, hh, hh / (d.h / d.hkv), q0, (q0 + kRows < d.tq ? q0 + kRows : d.tq) + d.tk - d.tq};
}

// ---- forward: block = (64 query rows, one batch and query head) ----

template <int HD>
struct ForwardState {
  float o[Tiles<HD>::kQueryTm][Tiles<HD>::kHn];  // unnormalised out rows
  float s[Tiles<HD>::kQueryTm][Tiles<HD>::kCn];  // scores of the current key tile (log2 units)
  float m[Tiles<HD>::kQueryTm];                  // running row max (log2 units)
  float l[Tiles<HD>::kQueryTm];                  // running Σ exp2(s - m) over this thread's columns
};

template <int HD, typename T, class Exec>
MONE_HD void forward_block(Exec& ex, float* smem, const ForwardArgs<T>& a, int64_t block) {
  using C = Tiles<HD>;
  using State = ForwardState<HD>;
  constexpr int kRows = C::kQueryRows, TM = C::kQueryTm, NC = C::kCols, CN = C::kCn;
  const AttentionDims& d = a.d;
  const QueryBlock qb = query_block<HD>(d, block);
  const int64_t bi = qb.bi, hh = qb.hh, q0 = qb.q0;
  const int64_t ldq = d.h * d.hd, ldkv = d.hkv * d.hd;
  const T* qh = a.q + q_row(d, bi, 0, hh);
  const T* kh = a.k + kv_row(d, bi, 0, qb.g);
  const T* vh = a.v + kv_row(d, bi, 0, qb.g);
  float* qs = smem;                // [kRows, HD]
  float* ks = qs + kRows * C::kLd;  // [NC, HD]
  float* vs = ks + NC * C::kLd;     // [NC, HD]
  float* ps = vs + NC * C::kLd;     // [kRows, NC]: P of the current key tile
  float* red = ps + kRows * C::kLdc;  // [kRows, kLanes]: per-thread partial row values
  const float scale2 = a.scale * kLog2e;

  ex.step([&](int tid, State& st) {
    load_tile<T, kRows, HD>(qs, qh, ldq, q0, d.tq, d.hd, a.vec, tid);
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) {
      st.m[r] = kNegInf;
      st.l[r] = 0.f;
      MONE_UNROLL
      for (int c = 0; c < C::kHn; ++c) st.o[r][c] = 0.f;
    }
  });
  for (int64_t k0 = 0; k0 < qb.kend; k0 += NC) {
    ex.step([&](int tid, State&) {
      load_tile<T, NC, HD>(ks, kh, ldkv, k0, d.tk, d.hd, a.vec, tid);
      load_tile<T, NC, HD>(vs, vh, ldkv, k0, d.tk, d.hd, a.vec, tid);
    });
    // S = Q Kᵀ · scale · log2 e, -inf where the key is not visible; this thread's row maxima
    ex.step([&](int tid, State& st) {
      const int ty = tid / kLanes, tx = tid % kLanes;
      tile_dot<TM, CN, HD>(qs, ks, ty, tx, st.s);
      MONE_UNROLL
      for (int r = 0; r < TM; ++r) {
        const int64_t i = q0 + ty * TM + r;
        float mx = kNegInf;
        MONE_UNROLL
        for (int n = 0; n < CN; ++n) {
          st.s[r][n] = visible(d, i, k0 + tx + kLanes * n) ? st.s[r][n] * scale2 : kNegInf;
          mx = fmaxf(mx, st.s[r][n]);
        }
        red[(ty * TM + r) * kLanes + tx] = mx;
      }
    });
    // online softmax: the row's new max, P = exp2(S - max) into shared memory, o and l rescaled
    ex.step([&](int tid, State& st) {
      const int ty = tid / kLanes, tx = tid % kLanes;
      MONE_UNROLL
      for (int r = 0; r < TM; ++r) {
        const int row = ty * TM + r;
        float m_new = st.m[r];
        for (int x = 0; x < kLanes; ++x) m_new = fmaxf(m_new, red[row * kLanes + x]);
        const float alpha = st.m[r] == kNegInf ? 0.f : exp2f(st.m[r] - m_new);
        float sum = 0.f;
        MONE_UNROLL
        for (int n = 0; n < CN; ++n) {
          const float p = st.s[r][n] == kNegInf ? 0.f : exp2f(st.s[r][n] - m_new);
          ps[row * C::kLdc + tx + kLanes * n] = p;
          sum += p;
        }
        st.l[r] = st.l[r] * alpha + sum;
        st.m[r] = m_new;
        MONE_UNROLL
        for (int c = 0; c < C::kHn; ++c) st.o[r][c] *= alpha;
      }
    });
    // o += P V
    ex.step([&](int tid, State& st) { tile_acc<TM, NC, HD>(ps, vs, tid / kLanes, tid % kLanes, st.o); });
  }
  // A row's l is split over its kLanes threads: gather them, then out = o / l, lse = (m + log2 l) ln 2.
  ex.step([&](int tid, State& st) {
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) red[(tid / kLanes * TM + r) * kLanes + tid % kLanes] = st.l[r];
  });
  ex.step([&](int tid, State& st) {
    const int ty = tid / kLanes, tx = tid % kLanes;
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) {
      const int row = ty * TM + r;
      const int64_t i = q0 + row;
      if (i >= d.tq) continue;
      float l = 0.f;
      for (int x = 0; x < kLanes; ++x) l += red[row * kLanes + x];
      store_row<T, HD>(a.out + q_row(d, bi, i, hh), st.o[r], 1.f / l, tx, d.hd);
      if (tx == 0) a.lse[row_stat(d, bi, hh, i)] = (st.m[r] + log2f(l)) * kLn2;
    }
  });
}

// ---- backward, first pass: delta = rowsum(grad_out ⊙ out), one (batch, query, head) row ----

// row runs over B·Tq·H in the memory order of out.
template <typename T>
MONE_HD void delta_row(const BackwardArgs<T>& a, int64_t row) {
  const AttentionDims& d = a.d;
  const int64_t hh = row % d.h, i = row / d.h % d.tq, bi = row / (d.h * d.tq);
  const T* go = a.grad_out + row * d.hd;
  const T* o = a.out + row * d.hd;
  float sum = 0.f;
  for (int64_t c = 0; c < d.hd; ++c) sum += Elem<T>::load(go + c) * Elem<T>::load(o + c);
  a.delta[row_stat(d, bi, hh, i)] = sum;
}

// P_ij from the raw score s = q_i·k_j and the row's lse (both in log2 units after scaling); 0 for a
// key the query does not see. The backward's dS is then P (dP - delta).
MONE_HD float recomputed_p(bool visible, float s, float scale2, float lse2) {
  return visible ? exp2f(s * scale2 - lse2) : 0.f;
}

// ---- backward: grad_q, block = (64 query rows, one batch and query head) ----

template <int HD>
struct GradQState {
  float dq[Tiles<HD>::kQueryTm][Tiles<HD>::kHn];
  float s[Tiles<HD>::kQueryTm][Tiles<HD>::kCn];
  float dp[Tiles<HD>::kQueryTm][Tiles<HD>::kCn];
  float lse2[Tiles<HD>::kQueryTm];  // lse in log2 units
  float delta[Tiles<HD>::kQueryTm];
};

template <int HD, typename T, class Exec>
MONE_HD void grad_q_block(Exec& ex, float* smem, const BackwardArgs<T>& a, int64_t block) {
  using C = Tiles<HD>;
  using State = GradQState<HD>;
  constexpr int kRows = C::kQueryRows, TM = C::kQueryTm, NC = C::kCols, CN = C::kCn;
  const AttentionDims& d = a.d;
  const QueryBlock qb = query_block<HD>(d, block);
  const int64_t bi = qb.bi, hh = qb.hh, g = qb.g, q0 = qb.q0;
  const int64_t ldq = d.h * d.hd, ldkv = d.hkv * d.hd;
  float* qs = smem;                  // [kRows, HD]
  float* dos = qs + kRows * C::kLd;  // [kRows, HD]: grad_out rows
  float* ks = dos + kRows * C::kLd;  // [NC, HD]
  float* vs = ks + NC * C::kLd;      // [NC, HD]
  float* dss = vs + NC * C::kLd;     // [kRows, NC]: dS of the current key tile
  const float scale2 = a.scale * kLog2e;

  ex.step([&](int tid, State& st) {
    load_tile<T, kRows, HD>(qs, a.q + q_row(d, bi, 0, hh), ldq, q0, d.tq, d.hd, a.vec, tid);
    load_tile<T, kRows, HD>(dos, a.grad_out + q_row(d, bi, 0, hh), ldq, q0, d.tq, d.hd, a.vec, tid);
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) {
      const int64_t i = q0 + tid / kLanes * TM + r;
      st.lse2[r] = i < d.tq ? a.lse[row_stat(d, bi, hh, i)] * kLog2e : 0.f;
      st.delta[r] = i < d.tq ? a.delta[row_stat(d, bi, hh, i)] : 0.f;
      MONE_UNROLL
      for (int c = 0; c < C::kHn; ++c) st.dq[r][c] = 0.f;
    }
  });
  for (int64_t k0 = 0; k0 < qb.kend; k0 += NC) {
    ex.step([&](int tid, State&) {
      load_tile<T, NC, HD>(ks, a.k + kv_row(d, bi, 0, g), ldkv, k0, d.tk, d.hd, a.vec, tid);
      load_tile<T, NC, HD>(vs, a.v + kv_row(d, bi, 0, g), ldkv, k0, d.tk, d.hd, a.vec, tid);
    });
    // P = exp2(S - lse2) (0 where not visible), dP = grad_out Vᵀ, dS = P ⊙ (dP - delta)
    ex.step([&](int tid, State& st) {
      const int ty = tid / kLanes, tx = tid % kLanes;
      tile_dot<TM, CN, HD>(qs, ks, ty, tx, st.s);
      tile_dot<TM, CN, HD>(dos, vs, ty, tx, st.dp);
      MONE_UNROLL
      for (int r = 0; r < TM; ++r) {
        const int64_t i = q0 + ty * TM + r;
        MONE_UNROLL
        for (int n = 0; n < CN; ++n) {
          const float p = recomputed_p(visible(d, i, k0 + tx + kLanes * n), st.s[r][n], scale2, st.lse2[r]);
          dss[(ty * TM + r) * C::kLdc + tx + kLanes * n] = p * (st.dp[r][n] - st.delta[r]);
        }
      }
    });
    // dq += dS K
    ex.step([&](int tid, State& st) { tile_acc<TM, NC, HD>(dss, ks, tid / kLanes, tid % kLanes, st.dq); });
  }
  // grad_q = scale · dq
  ex.step([&](int tid, State& st) {
    const int ty = tid / kLanes, tx = tid % kLanes;
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) {
      const int64_t i = q0 + ty * TM + r;
      if (i < d.tq) store_row<T, HD>(a.grad_q + q_row(d, bi, i, hh), st.dq[r], a.scale, tx, d.hd);
    }
  });
}

// ---- backward: grad_k and grad_v, block = (32 key rows, one batch and kv head) ----

template <int HD>
struct GradKvState {
  float dk[Tiles<HD>::kKeyTm][Tiles<HD>::kHn];
  float dv[Tiles<HD>::kKeyTm][Tiles<HD>::kHn];
  float s[Tiles<HD>::kKeyTm][Tiles<HD>::kCn];   // Sᵀ: keys × queries
  float dp[Tiles<HD>::kKeyTm][Tiles<HD>::kCn];  // dPᵀ
};

// The sum over the query heads of the kv group and over the query tiles runs in a fixed order in
// one thread's registers: deterministic, no atomics. Blocks of the first keys (seen by the most
// queries) run first.
template <int HD, typename T, class Exec>
MONE_HD void grad_kv_block(Exec& ex, float* smem, const BackwardArgs<T>& a, int64_t block) {
  using C = Tiles<HD>;
  using State = GradKvState<HD>;
  constexpr int kRows = C::kKeyRows, TM = C::kKeyTm, NC = C::kCols, CN = C::kCn;
  const AttentionDims& d = a.d;
  const int64_t groups = d.b * d.hkv, bg = block % groups, k0 = block / groups * kRows;
  const int64_t bi = bg / d.hkv, g = bg % d.hkv, group = d.h / d.hkv;
  const int64_t ldq = d.h * d.hd, ldkv = d.hkv * d.hd;
  float* ks = smem;                  // [kRows, HD]
  float* vs = ks + kRows * C::kLd;   // [kRows, HD]
  float* qs = vs + kRows * C::kLd;   // [NC, HD]: query rows of the current tile
  float* dos = qs + NC * C::kLd;     // [NC, HD]: their grad_out rows
  float* ps = dos + NC * C::kLd;     // [kRows, NC]: Pᵀ
  float* dss = ps + kRows * C::kLdc;  // [kRows, NC]: dSᵀ
  float* lse2s = dss + kRows * C::kLdc;  // [NC]
  float* deltas = lse2s + NC;            // [NC]
  const float scale2 = a.scale * kLog2e;
  // Queries i >= k0 - (Tk - Tq) see some key of the block.
  const int64_t qstart = k0 > d.tk - d.tq ? k0 - (d.tk - d.tq) : 0;

  ex.step([&](int tid, State& st) {
    load_tile<T, kRows, HD>(ks, a.k + kv_row(d, bi, 0, g), ldkv, k0, d.tk, d.hd, a.vec, tid);
    load_tile<T, kRows, HD>(vs, a.v + kv_row(d, bi, 0, g), ldkv, k0, d.tk, d.hd, a.vec, tid);
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) {
      MONE_UNROLL
      for (int c = 0; c < C::kHn; ++c) st.dk[r][c] = st.dv[r][c] = 0.f;
    }
  });
  for (int64_t hh = g * group; hh < (g + 1) * group; ++hh) {
    for (int64_t q0 = qstart; q0 < d.tq; q0 += NC) {
      ex.step([&](int tid, State&) {
        load_tile<T, NC, HD>(qs, a.q + q_row(d, bi, 0, hh), ldq, q0, d.tq, d.hd, a.vec, tid);
        load_tile<T, NC, HD>(dos, a.grad_out + q_row(d, bi, 0, hh), ldq, q0, d.tq, d.hd, a.vec, tid);
        if (tid < NC) {
          const int c = tid;
          const int64_t i = q0 + c;
          lse2s[c] = i < d.tq ? a.lse[row_stat(d, bi, hh, i)] * kLog2e : 0.f;
          deltas[c] = i < d.tq ? a.delta[row_stat(d, bi, hh, i)] : 0.f;
        }
      });
      // Pᵀ = exp2(Sᵀ - lse2) (0 where not visible), dPᵀ = V grad_outᵀ, dSᵀ = Pᵀ ⊙ (dPᵀ - delta)
      ex.step([&](int tid, State& st) {
        const int ty = tid / kLanes, tx = tid % kLanes;
        tile_dot<TM, CN, HD>(ks, qs, ty, tx, st.s);
        tile_dot<TM, CN, HD>(vs, dos, ty, tx, st.dp);
        MONE_UNROLL
        for (int r = 0; r < TM; ++r) {
          const int64_t j = k0 + ty * TM + r;
          MONE_UNROLL
          for (int n = 0; n < CN; ++n) {
            const int col = tx + kLanes * n;
            const float p = recomputed_p(visible(d, q0 + col, j), st.s[r][n], scale2, lse2s[col]);
            ps[(ty * TM + r) * C::kLdc + col] = p;
            dss[(ty * TM + r) * C::kLdc + col] = p * (st.dp[r][n] - deltas[col]);
          }
        }
      });
      // dv += Pᵀ grad_out, dk += dSᵀ Q
      ex.step([&](int tid, State& st) {
        tile_acc<TM, NC, HD>(ps, dos, tid / kLanes, tid % kLanes, st.dv);
        tile_acc<TM, NC, HD>(dss, qs, tid / kLanes, tid % kLanes, st.dk);
      });
    }
  }
  // grad_k = scale · dk, grad_v = dv
  ex.step([&](int tid, State& st) {
    const int ty = tid / kLanes, tx = tid % kLanes;
    MONE_UNROLL
    for (int r = 0; r < TM; ++r) {
      const int64_t j = k0 + ty * TM + r;
      if (j >= d.tk) continue;
      store_row<T, HD>(a.grad_k + kv_row(d, bi, j, g), st.dk[r], a.scale, tx, d.hd);
      store_row<T, HD>(a.grad_v + kv_row(d, bi, j, g), st.dv[r], 1.f, tx, d.hd);
    }
  });
}

}  // namespace mone::cuda::attention_tiles

// Definitions and contracts: ops/cpu/mone_ffn.h (the formulas: ops/mone_ffn.h).
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R rows grouped by expert; T tokens of one expert (its segment).
//
// The driver walks the experts in order and runs each one's segment; every piece below works on
// one segment: x [T, d], W_gate and W_up [D, d], W_down [d, D].
#include "ops/cpu/mone_ffn.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>
#include <vector>

#include "ops/cpu/math.h"
#include "ops/cpu/matmul.h"

namespace mone::ops::cpu {

namespace {

// Loops over fewer multiply-adds than this run on one thread: below it, waking the OpenMP team
// costs more than it saves (and much more on a busy machine).
constexpr int64_t kParallelWork = int64_t{1} << 18;
// Tokens handled together by the gathered backward's dh, so a row of W_down loaded once serves
// the whole block.
constexpr int64_t kTokenBlock = 4;

// One expert's segment.
struct Segment {
  int64_t tokens;  // T
  int64_t d, D, k_n;
};

// y [rows, out] = x [rows, in] · wᵀ, with w [out, in] (a Linear layer's weight).
template <typename T>
void linear(const T* x, const T* w, int64_t rows, int64_t in, int64_t out, T* y) {
  gemm<T>(false, true, rows, out, in, T(1), x, in, w, in, T(0), y, out);
}

template <typename T>
T dot(const T* a, const T* b, int64_t n) {
  T s = T(0);
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y[i] += alpha · x[i].
template <typename T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// idx[t, :] = the K_N neurons with the largest |G| in the top-k order (math.h: NaN first, ties to
// the lower index), in ascending neuron order.
// A radix select finds the K_N-th largest key (the threshold): a histogram of the keys' top 11
// bits locates the bucket holding it, and only that bucket is searched. Then one pass in index
// order takes every neuron above the threshold and as many at it as are still needed, so the
// lower indices win ties.
template <typename T>
void select_top_abs(const T* g, Segment s, int32_t* idx) {
  using Key = decltype(abs_order_key(T(0)));
  constexpr int kShift = 8 * sizeof(Key) - 12;  // the top bit is 0: 11 useful bits, 2048 buckets
  constexpr int kBuckets = 2048;
  const int64_t D = s.D, k_n = s.k_n;
#pragma omp parallel for schedule(static) if (s.tokens * D * 16 > kParallelWork)
  for (int64_t t = 0; t < s.tokens; ++t) {
    int32_t* out = idx + t * k_n;
    if (k_n == D) {  // every neuron: the dense expert
      std::iota(out, out + D, 0);
      continue;
    }
    std::vector<Key> key(D);
    std::vector<int32_t> count(kBuckets, 0);
    for (int64_t j = 0; j < D; ++j) {
      key[j] = abs_order_key(g[t * D + j]);
      ++count[key[j] >> kShift];
    }
    // The bucket b holding the K_N-th largest key, and how many keys lie in higher buckets.
    int64_t above = 0, b = kBuckets - 1;
    while (above + count[b] < k_n) above += count[b--];
    std::vector<Key> bucket;
    for (int64_t j = 0; j < D; ++j) {
      if (static_cast<int64_t>(key[j] >> kShift) == b) bucket.push_back(key[j]);
    }
    const int64_t rank = k_n - above - 1;  // the threshold's rank inside its bucket
    std::nth_element(bucket.begin(), bucket.begin() + rank, bucket.end(), std::greater<Key>());
    const Key threshold = bucket[rank];
    int64_t ties = k_n - above;  // how many at the threshold to take
    for (const Key k : bucket) ties -= k > threshold;
    int64_t n = 0;
    for (int64_t j = 0; j < D; ++j) {
      if (key[j] > threshold || (key[j] == threshold && ties-- > 0)) out[n++] = static_cast<int32_t>(j);
    }
  }
}

// H [T, D]: h scattered to the selected neurons, zero elsewhere.
template <typename T>
std::vector<T> scatter_h(const T* h, const int32_t* idx, Segment s) {
  std::vector<T> full(s.tokens * s.D, T(0));
  for (int64_t t = 0; t < s.tokens; ++t) {
    for (int64_t k = 0; k < s.k_n; ++k) full[t * s.D + idx[t * s.k_n + k]] = h[t * s.k_n + k];
  }
  return full;
}

// ---- forward: up and down projections for the selected neurons ------------------------------

// Masked-dense: U = x W_upᵀ over all D (GEMM), h = G ⊙ U on I, y = H W_downᵀ (GEMM).
template <typename T>
void up_down_masked_dense(const T* x, const T* w_up, const T* w_down, const T* g, const int32_t* idx, Segment s,
                          T* y, T* u, T* h) {
  const int64_t D = s.D, k_n = s.k_n;
  std::vector<T> u_full(s.tokens * D);
  linear<T>(x, w_up, s.tokens, s.d, D, u_full.data());
  for (int64_t t = 0; t < s.tokens; ++t) {
    for (int64_t k = 0; k < k_n; ++k) {
      const int64_t j = idx[t * k_n + k];
      u[t * k_n + k] = u_full[t * D + j];
      h[t * k_n + k] = g[t * D + j] * u[t * k_n + k];
    }
  }
  const std::vector<T> h_full = scatter_h(h, idx, s);
  linear<T>(h_full.data(), w_down, s.tokens, D, s.d, y);
}

// Gathered: u_k = W_up[I_k, :] · x_t (K_N dot products), y_t[i] = Σ_k h_k W_down[i, I_k].
template <typename T>
void up_down_gathered(const T* x, const T* w_up, const T* w_down, const T* g, const int32_t* idx, Segment s, T* y,
                      T* u, T* h) {
  const int64_t d = s.d, D = s.D, k_n = s.k_n;
  const bool parallel = s.tokens * k_n * d > kParallelWork;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t t = 0; t < s.tokens; ++t) {
    for (int64_t k = 0; k < k_n; ++k) {
      const int64_t j = idx[t * k_n + k];
      u[t * k_n + k] = dot<T>(w_up + j * d, x + t * d, d);
      h[t * k_n + k] = g[t * D + j] * u[t * k_n + k];
    }
  }
  // y_t[i] = Σ_k h_k W_down[i, I_k]: row i of W_down stays in cache while every token gathers its
  // K_N entries from it; four partial sums keep the gathered loads independent.
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < d; ++i) {
    const T* row = w_down + i * D;
    for (int64_t t = 0; t < s.tokens; ++t) {
      const int32_t* sel = idx + t * k_n;
      const T* ht = h + t * k_n;
      T acc[4] = {};
      int64_t k = 0;
      for (; k + 4 <= k_n; k += 4) {
        for (int l = 0; l < 4; ++l) acc[l] += ht[k + l] * row[sel[k + l]];
      }
      for (; k < k_n; ++k) acc[0] += ht[k] * row[sel[k]];
      y[t * d + i] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  }
}

// ---- backward pieces -----------------------------------------------------------------------

// From dG [T, D] (overwritten with da): da = dG ⊙ act'(a), dW_gate = daᵀ x (=), dx += da W_gate.
template <typename T>
void gate_backward(T* dG, const T* a, const T* x, const T* w_gate, Segment s, Activation act, T* grad_w_gate,
                   T* grad_x) {
  const int64_t n = s.tokens * s.D;
#pragma omp parallel for schedule(static) if (n > kParallelWork)
  for (int64_t i = 0; i < n; ++i) dG[i] *= activation_grad(act, a[i]);
  gemm<T>(true, false, s.D, s.d, s.tokens, T(1), dG, s.D, x, s.d, T(0), grad_w_gate, s.d);
  gemm<T>(false, false, s.tokens, s.d, s.D, T(1), dG, s.D, w_gate, s.d, T(1), grad_x, s.d);
}

// Dense up/down backward (masked-dense HARD, and STRAIGHT_THROUGH for both strategies):
// dH = dy W_down over all D (GEMM); dW_down = dyᵀ H (GEMM; zero on unselected columns since
// H is zero there); then dG, dU either on I only (HARD) or on every neuron with the dense
// U = x W_upᵀ recomputed (STRAIGHT_THROUGH); dW_up = dUᵀ x, dx = dU W_up.
template <typename T>
void up_down_backward_dense(const T* dy, const T* x, const T* w_up, const T* w_down, const T* g, const int32_t* idx,
                            const T* u, const T* h, Segment s, bool straight_through, T* dG, T* grad_x,
                            T* grad_w_up, T* grad_w_down) {
  const int64_t tokens = s.tokens, d = s.d, D = s.D, k_n = s.k_n;
  std::vector<T> dH(tokens * D);
  gemm<T>(false, false, tokens, D, d, T(1), dy, d, w_down, D, T(0), dH.data(), D);
  const std::vector<T> h_full = scatter_h(h, idx, s);
  gemm<T>(true, false, d, D, tokens, T(1), dy, d, h_full.data(), D, T(0), grad_w_down, D);
  std::vector<T> dU(tokens * D, T(0));
  if (straight_through) {
    std::vector<T> u_full(tokens * D);
    linear<T>(x, w_up, tokens, d, D, u_full.data());
    for (int64_t i = 0; i < tokens * D; ++i) {
      dG[i] += dH[i] * u_full[i];
      dU[i] = dH[i] * g[i];
    }
  } else {
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t k = 0; k < k_n; ++k) {
        const int64_t i = t * D + idx[t * k_n + k];
        dG[i] += dH[i] * u[t * k_n + k];
        dU[i] = dH[i] * g[i];
      }
    }
  }
  gemm<T>(true, false, D, d, tokens, T(1), dU.data(), D, x, d, T(0), grad_w_up, d);
  gemm<T>(false, false, tokens, d, D, T(1), dU.data(), D, w_up, d, T(0), grad_x, d);
}

// Gathered HARD backward: touches only the selected rows of W_up and columns of W_down.
template <typename T>
void up_down_backward_gathered(const T* dy, const T* x, const T* w_up, const T* w_down, const T* g,
                               const int32_t* idx, const T* u, const T* h, Segment s, T* dG, T* grad_x,
                               T* grad_w_up, T* grad_w_down) {
  const int64_t tokens = s.tokens, d = s.d, D = s.D, k_n = s.k_n;
  const bool parallel = tokens * k_n * d > kParallelWork;
  // dh_k = W_down[:, I_k] · dy_t;  dG_{I_k} += dh_k u_k;  du_k = dh_k G_{I_k}. Tokens go in
  // blocks so that each row of W_down, once loaded, serves the whole block.
  std::vector<T> du(tokens * k_n);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t t0 = 0; t0 < tokens; t0 += kTokenBlock) {
    const int64_t t1 = std::min(tokens, t0 + kTokenBlock);
    std::vector<T> dh((t1 - t0) * k_n, T(0));
    for (int64_t i = 0; i < d; ++i) {
      const T* row = w_down + i * D;
      for (int64_t t = t0; t < t1; ++t) {
        const T dyi = dy[t * d + i];
        const int32_t* sel = idx + t * k_n;
        T* dht = dh.data() + (t - t0) * k_n;
        for (int64_t k = 0; k < k_n; ++k) dht[k] += row[sel[k]] * dyi;
      }
    }
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t k = 0; k < k_n; ++k) {
        const int64_t j = idx[t * k_n + k];
        const T dhk = dh[(t - t0) * k_n + k];
        dG[t * D + j] += dhk * u[t * k_n + k];
        du[t * k_n + k] = dhk * g[t * D + j];
      }
    }
  }
  // dW_down[i, I_k] += h_k dy_t[i]: each thread owns rows i, tokens in order (deterministic).
  std::fill(grad_w_down, grad_w_down + d * D, T(0));
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < d; ++i) {
    T* row = grad_w_down + i * D;
    for (int64_t t = 0; t < tokens; ++t) {
      const T dyi = dy[t * d + i];
      for (int64_t k = 0; k < k_n; ++k) row[idx[t * k_n + k]] += h[t * k_n + k] * dyi;
    }
  }
  // dW_up[I_k, :] += du_k x_t: each thread owns a range of columns, tokens in order.
  std::fill(grad_w_up, grad_w_up + D * d, T(0));
  const int64_t chunk = parallel ? (d + omp_get_max_threads() - 1) / omp_get_max_threads() : d;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t c0 = 0; c0 < d; c0 += chunk) {
    const int64_t width = std::min(chunk, d - c0);
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t k = 0; k < k_n; ++k) {
        axpy<T>(width, du[t * k_n + k], x + t * d + c0, grad_w_up + idx[t * k_n + k] * d + c0);
      }
    }
  }
  // dx_t = Σ_k du_k W_up[I_k, :].
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t t = 0; t < tokens; ++t) {
    T* gx = grad_x + t * d;
    std::fill(gx, gx + d, T(0));
    for (int64_t k = 0; k < k_n; ++k) axpy<T>(d, du[t * k_n + k], w_up + idx[t * k_n + k] * d, gx);
  }
}

// ---- one expert's segment --------------------------------------------------------------------

template <typename T>
void expert_forward(const T* x, const T* w_gate, const T* w_up, const T* w_down, Segment s, Activation act,
                    MoneStrategy strategy, T* y, T* a, T* g, int32_t* idx, T* u, T* h) {
  // a = x W_gateᵀ (dense: every |G| is needed to choose I), G = act(a), I = top-K_N |G|.
  linear<T>(x, w_gate, s.tokens, s.d, s.D, a);
  const int64_t n = s.tokens * s.D;
#pragma omp parallel for schedule(static) if (n > kParallelWork)
  for (int64_t i = 0; i < n; ++i) g[i] = activation(act, a[i]);
  select_top_abs(g, s, idx);
  if (strategy == MoneStrategy::kGathered) {
    up_down_gathered(x, w_up, w_down, g, idx, s, y, u, h);
  } else {
    up_down_masked_dense(x, w_up, w_down, g, idx, s, y, u, h);
  }
}

template <typename T>
void expert_backward(const T* dy, const T* dg_extra, const T* x, const T* w_gate, const T* w_up, const T* w_down,
                     const T* a, const T* g, const int32_t* idx, const T* u, const T* h, Segment s,
                     TopkBackward estimator, MoneStrategy strategy, Activation act, T* grad_x, T* grad_w_gate,
                     T* grad_w_up, T* grad_w_down) {
  // dG starts as grad_g_extra (the neuron loss's gradient), or zero.
  std::vector<T> dG(s.tokens * s.D, T(0));
  if (dg_extra != nullptr) std::copy(dg_extra, dg_extra + s.tokens * s.D, dG.begin());
  const bool straight_through = estimator == TopkBackward::kStraightThrough;
  if (dy == nullptr) {  // nothing flows through y: up and down get no gradient
    std::fill(grad_x, grad_x + s.tokens * s.d, T(0));
    std::fill(grad_w_up, grad_w_up + s.D * s.d, T(0));
    std::fill(grad_w_down, grad_w_down + s.d * s.D, T(0));
  } else if (strategy == MoneStrategy::kGathered && !straight_through) {
    up_down_backward_gathered(dy, x, w_up, w_down, g, idx, u, h, s, dG.data(), grad_x, grad_w_up, grad_w_down);
  } else {
    up_down_backward_dense(dy, x, w_up, w_down, g, idx, u, h, s, straight_through, dG.data(), grad_x, grad_w_up,
                           grad_w_down);
  }
  gate_backward(dG.data(), a, x, w_gate, s, act, grad_w_gate, grad_x);
}

// Keeping every neuron (K_N = D: the plain SwiGLU expert, MoE) there is nothing to gather: the
// three dense GEMMs of masked-dense compute the same numbers faster, whatever strategy was asked.
MoneStrategy effective_strategy(MoneStrategy strategy, const MoneDims& dims) {
  return dims.k_n == dims.D ? MoneStrategy::kMaskedDense : strategy;
}

// Expert e's rows [begin, end): from offsets, or every row for one expert without offsets.
std::pair<int64_t, int64_t> rows_of(const int64_t* offsets, int64_t e, int64_t rows) {
  return offsets == nullptr ? std::pair<int64_t, int64_t>{0, rows} : std::pair{offsets[e], offsets[e + 1]};
}

}  // namespace

template <typename T>
void mone_ffn_forward(const T* x, const int64_t* offsets, const T* w_gate, const T* w_up, const T* w_down,
                      MoneDims dims, Activation act, MoneStrategy strategy, T* y, T* a, T* g, int32_t* idx, T* u,
                      T* h) {
  const int64_t d = dims.d, D = dims.D, k_n = dims.k_n;
  strategy = effective_strategy(strategy, dims);
  for (int64_t e = 0; e < dims.experts; ++e) {
    const auto [r0, r1] = rows_of(offsets, e, dims.rows);
    if (r1 == r0) continue;
    const Segment s{r1 - r0, d, D, k_n};
    expert_forward(x + r0 * d, w_gate + e * D * d, w_up + e * D * d, w_down + e * d * D, s, act, strategy, y + r0 * d,
                   a + r0 * D, g + r0 * D, idx + r0 * k_n, u + r0 * k_n, h + r0 * k_n);
  }
}

template <typename T>
void mone_ffn_backward(const T* grad_y, const T* grad_g_extra, const T* x, const int64_t* offsets, const T* w_gate,
                       const T* w_up, const T* w_down, const T* a, const T* g, const int32_t* idx, const T* u,
                       const T* h, MoneDims dims, TopkBackward estimator, MoneStrategy strategy, Activation act,
                       T* grad_x, T* grad_w_gate, T* grad_w_up, T* grad_w_down) {
  const int64_t d = dims.d, D = dims.D, k_n = dims.k_n;
  strategy = effective_strategy(strategy, dims);
  for (int64_t e = 0; e < dims.experts; ++e) {
    const auto [r0, r1] = rows_of(offsets, e, dims.rows);
    T* gwg = grad_w_gate + e * D * d;
    T* gwu = grad_w_up + e * D * d;
    T* gwd = grad_w_down + e * d * D;
    if (r1 == r0) {  // an expert no row reached: zero weight gradients
      std::fill(gwg, gwg + D * d, T(0));
      std::fill(gwu, gwu + D * d, T(0));
      std::fill(gwd, gwd + d * D, T(0));
      continue;
    }
    const Segment s{r1 - r0, d, D, k_n};
    expert_backward(grad_y == nullptr ? nullptr : grad_y + r0 * d,
                    grad_g_extra == nullptr ? nullptr : grad_g_extra + r0 * D, x + r0 * d, w_gate + e * D * d,
                    w_up + e * D * d, w_down + e * d * D, a + r0 * D, g + r0 * D, idx + r0 * k_n, u + r0 * k_n,
                    h + r0 * k_n, s, estimator, strategy, act, grad_x + r0 * d, gwg, gwu, gwd);
  }
}

#define MONE_INSTANTIATE(T)                                                                                       \
  template void mone_ffn_forward<T>(const T*, const int64_t*, const T*, const T*, const T*, MoneDims, Activation,  \
                                    MoneStrategy, T*, T*, T*, int32_t*, T*, T*);                                  \
  template void mone_ffn_backward<T>(const T*, const T*, const T*, const int64_t*, const T*, const T*, const T*,  \
                                     const T*, const T*, const int32_t*, const T*, const T*, MoneDims,            \
                                     TopkBackward, MoneStrategy, Activation, T*, T*, T*, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

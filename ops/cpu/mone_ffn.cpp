// Definitions and contracts: ops/cpu/mone_ffn.h (the formulas: ops/mone_ffn.h).
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept; R rows grouped by expert; T tokens of one expert (its segment).
//
// The driver hands each expert's segment to the pieces below, which work on one segment:
// x [T, d], W_gate and W_up [D, d], W_down [d, D]. Experts run in parallel, one per thread (each
// with single-threaded BLAS), except an expert holding more than a thread's share of the rows,
// which runs alone with every thread; every expert's numbers are the same either way.
//
// Gathered, the up and down projections and their HARD backward are all made of two primitives
// (ops/cpu/gathered.h) over rows picked by neuron: W_up's rows, W_downᵀ's rows (W_down is
// transposed once per call, so a neuron's weights are contiguous), and for the weight gradients
// the rows of x and dy picked by token, neuron by neuron, in token order (a CSR of the selections).
#include "ops/cpu/mone_ffn.h"

#include <omp.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <vector>

#include "core/cpu_memory.h"
#include "ops/cpu/activation.h"
#include "ops/cpu/gathered.h"
#include "ops/cpu/math.h"
#include "ops/cpu/matmul.h"

namespace mone::ops::cpu {

namespace {

using cpu_memory::Scratch;

// Loops over fewer multiply-adds than this run on one thread: below it, waking the OpenMP team
// costs more than it saves (and much more on a busy machine).
constexpr int64_t kFfnParallelWork = int64_t{1} << 18;
// The gathered kernels read W_down's selected columns (and write dW_down's) in place while
// T_e · K_N <= this times D, and through transposed copies above (bench_mone's "Gathered down
// projection": the two break even at about 2, the copy is up to 14× slower at decode; PERF.md).
constexpr int64_t kGatheredInPlace = 2;

// One expert's segment.
struct Segment {
  int64_t tokens;  // T
  int64_t d, D, k_n;
  bool parallel(int64_t work_per_token) const { return tokens * work_per_token > kFfnParallelWork; }
  // The gathered kernels' choice for W_down (kGatheredInPlace above), one rule for both passes.
  bool w_down_in_place() const { return tokens * k_n <= kGatheredInPlace * D; }
};

// y [rows, out] = x [rows, in] · wᵀ, with w [out, in] (a Linear layer's weight).
template <typename T>
void linear(const T* x, const T* w, int64_t rows, int64_t in, int64_t out, T* y) {
  gemm<T>(false, true, rows, out, in, T(1), x, in, w, in, T(0), y, out);
}

// idx[t, :] = the K_N neurons with the largest key(score) in the top-k order (math.h: larger key
// first, ties to the lower index), in ascending neuron order. key is abs_order_key (|score|, whose
// keys keep the top bit clear: kKeyBits = 31 or 63 useful bits) or signed_order_key (every bit).
// A radix select finds the K_N-th largest key (the threshold): a histogram of the keys' top 11
// useful bits locates the bucket holding it, and only that bucket is searched. Then one pass in
// index order takes every neuron above the threshold and as many at it as are still needed, so
// the lower indices win ties.
template <typename T, bool kSigned>
void select_top(const T* score, Segment s, int32_t* idx) {
  using Key = decltype(abs_order_key(T(0)));
  constexpr int kShift = 8 * sizeof(Key) - (kSigned ? 11 : 12);  // 2048 buckets over the useful bits
  constexpr int kBuckets = 2048;
  const auto key_of = [](T v) { return kSigned ? signed_order_key(v) : abs_order_key(v); };
  const int64_t D = s.D, k_n = s.k_n;
  if (k_n == D) {  // every neuron: the dense expert
    for (int64_t t = 0; t < s.tokens; ++t) std::iota(idx + t * D, idx + (t + 1) * D, 0);
    return;
  }
#pragma omp parallel if (s.parallel(D * 16))
  {
    std::vector<Key> key(D), bucket;
    std::vector<int32_t> count(kBuckets);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < s.tokens; ++t) {
      std::fill(count.begin(), count.end(), 0);
      for (int64_t j = 0; j < D; ++j) {
        key[j] = key_of(score[t * D + j]);
        ++count[key[j] >> kShift];
      }
      // The bucket b holding the K_N-th largest key, and how many keys lie in higher buckets.
      int64_t above = 0, b = kBuckets - 1;
      while (above + count[b] < k_n) above += count[b--];
      bucket.clear();
      for (int64_t j = 0; j < D; ++j) {
        if (static_cast<int64_t>(key[j] >> kShift) == b) bucket.push_back(key[j]);
      }
      const int64_t rank = k_n - above - 1;  // the threshold's rank inside its bucket
      std::nth_element(bucket.begin(), bucket.begin() + rank, bucket.end(), std::greater<Key>());
      const Key threshold = bucket[rank];
      int64_t ties = k_n - above;  // how many at the threshold to take
      for (const Key k : bucket) ties -= k > threshold;
      int32_t* out = idx + t * k_n;
      int64_t n = 0;
      for (int64_t j = 0; j < D; ++j) {
        if (key[j] > threshold || (key[j] == threshold && ties-- > 0)) out[n++] = static_cast<int32_t>(j);
      }
    }
  }
}

// kAbsGateThreshold's cut of one segment: τ = the (T·K_N)-th largest |G| of its T·D entries, and
// G_j = 0 wherever |G_j| < τ (NaN stays: it orders above everything).
template <typename T>
void threshold_gate(T* g, Segment s) {
  const int64_t n = s.tokens * s.D, kept = s.tokens * s.k_n;
  using Key = decltype(abs_order_key(T(0)));
  Scratch<Key> key(n);
  for (int64_t i = 0; i < n; ++i) key[i] = abs_order_key(g[i]);
  std::nth_element(key.data(), key.data() + (kept - 1), key.data() + n, std::greater<Key>());
  const Key tau = key[kept - 1];
  for (int64_t i = 0; i < n; ++i) {
    if (abs_order_key(g[i]) < tau) g[i] = T(0);
  }
}

// The selection step: idx from G (and, for kAbsGateTimesUp, the dense U = x W_upᵀ); the threshold
// selector also cuts G in place. With K_N = D every selector keeps every neuron.
template <typename T>
void select_neurons(NeuronSelector selector, const T* x, const T* w_up, T* g, Segment s, int32_t* idx) {
  if (s.k_n == s.D) return select_top<T, false>(g, s, idx);
  switch (selector) {
    case NeuronSelector::kAbsGate:
      return select_top<T, false>(g, s, idx);
    case NeuronSelector::kSignedGate:
      return select_top<T, true>(g, s, idx);
    case NeuronSelector::kAbsGateTimesUp: {
      Scratch<T> score(s.tokens * s.D);
      linear<T>(x, w_up, s.tokens, s.d, s.D, score.data());  // U, then G ⊙ U in place
      for (int64_t i = 0; i < s.tokens * s.D; ++i) score[i] *= g[i];
      return select_top<T, false>(score.data(), s, idx);
    }
    case NeuronSelector::kAbsGateThreshold:
      threshold_gate(g, s);
      return select_top<T, false>(g, s, idx);
  }
}

// ---- forward: up and down projections for the selected neurons ------------------------------

// Masked-dense: U = x W_upᵀ over all D (GEMM), h = G ⊙ U on I, y = H W_downᵀ (GEMM), with H
// built in U's buffer (zero but on I).
template <typename T>
void up_down_masked_dense(const T* x, const T* w_up, const T* w_down, const T* g, const int32_t* idx, Segment s,
                          T* y, T* u, T* h) {
  const int64_t D = s.D, k_n = s.k_n;
  Scratch<T> buf(s.tokens * D);
  linear<T>(x, w_up, s.tokens, s.d, D, buf.data());
#pragma omp parallel for schedule(static) if (s.parallel(D))
  for (int64_t t = 0; t < s.tokens; ++t) {
    T* row = buf.data() + t * D;
    for (int64_t k = 0; k < k_n; ++k) {
      const int64_t j = idx[t * k_n + k];
      u[t * k_n + k] = row[j];
      h[t * k_n + k] = g[t * D + j] * row[j];
    }
    std::fill(row, row + D, T(0));
    for (int64_t k = 0; k < k_n; ++k) row[idx[t * k_n + k]] = h[t * k_n + k];
  }
  linear<T>(buf.data(), w_down, s.tokens, D, s.d, y);
}

// Gathered: u_k = W_up[I_k, :] · x_t, then y_t = Σ_k h_k W_downᵀ[I_k, :]. W_down is [d, D], so the
// selected neurons are columns: for a few rows (decode) they are read in place, otherwise from a
// transposed copy made once per call (contiguous rows, but the copy reads and writes all of
// W_down). Both give the same bits (ops/cpu/gathered.h).
template <typename T>
void up_down_gathered(const T* x, const T* w_up, const T* w_down, const T* g, const int32_t* idx, Segment s, T* y,
                      T* u, T* h) {
  const int64_t d = s.d, D = s.D, k_n = s.k_n;
  const bool in_place = s.w_down_in_place();
  Scratch<T> w_down_t(in_place ? 0 : D * d);
  if (!in_place) transpose(w_down, d, D, w_down_t.data());
#pragma omp parallel for schedule(static) if (s.parallel(k_n * d))
  for (int64_t t = 0; t < s.tokens; ++t) {
    const int32_t* sel = idx + t * k_n;
    gather_dot(w_up, sel, k_n, x + t * d, d, u + t * k_n);
    for (int64_t k = 0; k < k_n; ++k) h[t * k_n + k] = g[t * D + sel[k]] * u[t * k_n + k];
    if (in_place) {
      gather_columns_axpy(w_down, d, D, sel, h + t * k_n, k_n, y + t * d);
    } else {
      gather_axpy(w_down_t.data(), sel, h + t * k_n, k_n, d, y + t * d);
    }
  }
}

// ---- backward pieces -----------------------------------------------------------------------

// From dG [T, D] (overwritten with da): da = dG ⊙ act'(a), dW_gate = daᵀ x (=), dx += da W_gate.
// act' comes from a for silu and from G = σ(a) for sigmoid (ops/cpu/activation.h).
template <typename T>
void gate_backward(T* dG, const T* a, const T* g, const T* x, const T* w_gate, Segment s, Activation act,
                   T* grad_w_gate, T* grad_x) {
  activation_backward(act, dG, act == Activation::kSigmoid ? g : a, s.tokens * s.D, dG);
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
  Scratch<T> dH(tokens * D), work(tokens * D);  // work holds H, then dU
  gemm<T>(false, false, tokens, D, d, T(1), dy, d, w_down, D, T(0), dH.data(), D);
  std::fill(work.data(), work.data() + tokens * D, T(0));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t k = 0; k < k_n; ++k) work[t * D + idx[t * k_n + k]] = h[t * k_n + k];
  }
  gemm<T>(true, false, d, D, tokens, T(1), dy, d, work.data(), D, T(0), grad_w_down, D);
  T* dU = work.data();
  if (straight_through) {
    linear<T>(x, w_up, tokens, d, D, dU);  // the dense U, then dU = dH ⊙ G in place
#pragma omp parallel for schedule(static) if (s.parallel(D))
    for (int64_t i = 0; i < tokens * D; ++i) {
      dG[i] += dH[i] * dU[i];
      dU[i] = dH[i] * g[i];
    }
  } else {
    std::fill(dU, dU + tokens * D, T(0));
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t k = 0; k < k_n; ++k) {
        const int64_t i = t * D + idx[t * k_n + k];
        dG[i] += dH[i] * u[t * k_n + k];
        dU[i] = dH[i] * g[i];
      }
    }
  }
  gemm<T>(true, false, D, d, tokens, T(1), dU, D, x, d, T(0), grad_w_up, d);
  gemm<T>(false, false, tokens, d, D, T(1), dU, D, w_up, d, T(0), grad_x, d);
}

// The selections by neuron: for neuron j, the rows t that kept it, ascending, at
// [start[j], start[j + 1]) of `token`, with `pair` = t·K_N + k (where in idx it sits).
struct SelectionsByNeuron {
  std::vector<int64_t> start;
  Scratch<int32_t> token, pair;
  SelectionsByNeuron(const int32_t* idx, Segment s) : start(s.D + 1, 0), token(s.tokens * s.k_n), pair(s.tokens * s.k_n) {
    const int64_t n = s.tokens * s.k_n;
    for (int64_t p = 0; p < n; ++p) ++start[idx[p] + 1];
    for (int64_t j = 0; j < s.D; ++j) start[j + 1] += start[j];
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t p = 0; p < n; ++p) {  // p ascends with t: each neuron's rows come out in order
      const int64_t at = next[idx[p]]++;
      token[at] = static_cast<int32_t>(p / s.k_n);
      pair[at] = static_cast<int32_t>(p);
    }
  }
};

// Gathered HARD backward: touches only the selected rows of W_up and columns of W_down.
//   dh_k = W_downᵀ[I_k] · dy_t;  dG_{I_k} += dh_k u_k;  du_k = dh_k G_{I_k}
//   dW_downᵀ[j] = Σ_{t keeps j} h_{t,j} dy_t;   dW_up[j] = Σ_{t keeps j} du_{t,j} x_t
//   dx_t = Σ_k du_k W_up[I_k]
template <typename T>
void up_down_backward_gathered(const T* dy, const T* x, const T* w_up, const T* w_down, const T* g,
                               const int32_t* idx, const T* u, const T* h, Segment s, T* dG, T* grad_x,
                               T* grad_w_up, T* grad_w_down) {
  const int64_t tokens = s.tokens, d = s.d, D = s.D, k_n = s.k_n;
  // W_down's columns, and dW_down's, in place for a few rows, else through transposed copies (as
  // in up_down_gathered; the same bits either way).
  const bool in_place = s.w_down_in_place();
  Scratch<T> w_down_t(in_place ? 0 : D * d), du(tokens * k_n);
  if (!in_place) transpose(w_down, d, D, w_down_t.data());
#pragma omp parallel for schedule(static) if (s.parallel(2 * k_n * d))
  for (int64_t t = 0; t < tokens; ++t) {
    const int32_t* sel = idx + t * k_n;
    T* dh = du.data() + t * k_n;  // dh first, then du in place
    if (in_place) {
      gather_columns_dot(w_down, d, D, sel, k_n, dy + t * d, dh);
    } else {
      gather_dot(w_down_t.data(), sel, k_n, dy + t * d, d, dh);
    }
    for (int64_t k = 0; k < k_n; ++k) {
      const int64_t j = sel[k];
      dG[t * D + j] += dh[k] * u[t * k_n + k];
      dh[k] *= g[t * D + j];
    }
    gather_axpy(w_up, sel, dh, k_n, d, grad_x + t * d);
  }
  // The weight gradients, neuron by neuron: each row of dW is one weighted sum, in token order.
  const SelectionsByNeuron by_neuron(idx, s);
  Scratch<T> coef_h(tokens * k_n), coef_du(tokens * k_n), grad_w_down_t(in_place ? 0 : D * d);
  for (int64_t i = 0; i < tokens * k_n; ++i) {
    coef_h[i] = h[by_neuron.pair[i]];
    coef_du[i] = du[by_neuron.pair[i]];
  }
  if (in_place) {  // dW_down is zero but on the selected neurons' columns, each written once
    std::fill(grad_w_down, grad_w_down + d * D, T(0));
    Scratch<T> column(d);
    for (int64_t j = 0; j < D; ++j) {
      const int64_t b = by_neuron.start[j], n = by_neuron.start[j + 1] - b;
      gather_axpy(x, by_neuron.token.data() + b, coef_du.data() + b, n, d, grad_w_up + j * d);
      if (n == 0) continue;
      gather_axpy(dy, by_neuron.token.data() + b, coef_h.data() + b, n, d, column.data());
      for (int64_t i = 0; i < d; ++i) grad_w_down[i * D + j] = column[i];
    }
    return;
  }
#pragma omp parallel for schedule(static) if (s.parallel(2 * k_n * d))
  for (int64_t j = 0; j < D; ++j) {
    const int64_t b = by_neuron.start[j], n = by_neuron.start[j + 1] - b;
    gather_axpy(dy, by_neuron.token.data() + b, coef_h.data() + b, n, d, grad_w_down_t.data() + j * d);
    gather_axpy(x, by_neuron.token.data() + b, coef_du.data() + b, n, d, grad_w_up + j * d);
  }
  transpose(grad_w_down_t.data(), D, d, grad_w_down);
}

// ---- one expert's segment --------------------------------------------------------------------

template <typename T>
void expert_forward(const T* x, const T* w_gate, const T* w_up, const T* w_down, Segment s, Activation act,
                    MoneStrategy strategy, NeuronSelector selector, T* y, T* a, T* g, int32_t* idx, T* u, T* h) {
  // a = x W_gateᵀ (dense: every |G| is needed to choose I), G = act(a), I = top-K_N by the selector.
  linear<T>(x, w_gate, s.tokens, s.d, s.D, a);
  activation_forward(act, a, s.tokens * s.D, g);
  select_neurons(selector, x, w_up, g, s, idx);
  if (strategy == MoneStrategy::kGathered) {
    up_down_gathered(x, w_up, w_down, g, idx, s, y, u, h);
  } else {
    up_down_masked_dense(x, w_up, w_down, g, idx, s, y, u, h);
  }
}

template <typename T>
void expert_backward(const T* dy, const T* dg_extra, const T* x, const T* w_gate, const T* w_up, const T* w_down,
                     const T* a, const T* g, const int32_t* idx, const T* u, const T* h, Segment s,
                     TopkBackward estimator, MoneStrategy strategy, Activation act, NeuronSelector selector,
                     T* grad_x, T* grad_w_gate, T* grad_w_up, T* grad_w_down) {
  // dG starts as grad_g_extra (the neuron loss's gradient), or zero.
  Scratch<T> dG(s.tokens * s.D);
  if (dg_extra != nullptr) {
    std::copy(dg_extra, dg_extra + s.tokens * s.D, dG.data());
  } else {
    std::fill(dG.data(), dG.data() + s.tokens * s.D, T(0));
  }
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
  if (selector == NeuronSelector::kAbsGateThreshold) {  // G cut to 0 is constant there: no gradient to a
    for (int64_t i = 0; i < s.tokens * s.D; ++i) {
      if (g[i] == T(0) && activation(act, a[i]) != T(0)) dG[i] = T(0);
    }
  }
  gate_backward(dG.data(), a, g, x, w_gate, s, act, grad_w_gate, grad_x);
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

// Runs run(e) for every expert: one holding more than a thread's share of the rows alone, with
// every thread working inside it; the others in parallel, one expert per thread at a time,
// largest first.
void for_each_expert(const int64_t* offsets, const MoneDims& dims, const std::function<void(int64_t)>& run) {
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  std::vector<int64_t> shared;
  for (int64_t e = 0; e < dims.experts; ++e) {
    const auto [r0, r1] = rows_of(offsets, e, dims.rows);
    if ((r1 - r0) * threads > dims.rows || threads == 1) {
      run(e);
    } else {
      shared.push_back(e);
    }
  }
  std::stable_sort(shared.begin(), shared.end(), [&](int64_t a, int64_t b) {
    return rows_of(offsets, a, dims.rows).second - rows_of(offsets, a, dims.rows).first >
           rows_of(offsets, b, dims.rows).second - rows_of(offsets, b, dims.rows).first;
  });
#pragma omp parallel for schedule(dynamic, 1) if (shared.size() > 1)
  for (size_t i = 0; i < shared.size(); ++i) run(shared[i]);
}

}  // namespace

template <typename T>
void mone_ffn_forward(const T* x, const int64_t* offsets, const T* w_gate, const T* w_up, const T* w_down,
                      MoneDims dims, Activation act, MoneStrategy strategy, NeuronSelector selector, T* y, T* a,
                      T* g, int32_t* idx, T* u, T* h) {
  const int64_t d = dims.d, D = dims.D, k_n = dims.k_n;
  strategy = effective_strategy(strategy, dims);
  for_each_expert(offsets, dims, [&](int64_t e) {
    const auto [r0, r1] = rows_of(offsets, e, dims.rows);
    if (r1 == r0) return;
    const Segment s{r1 - r0, d, D, k_n};
    expert_forward(x + r0 * d, w_gate + e * D * d, w_up + e * D * d, w_down + e * d * D, s, act, strategy, selector,
                   y + r0 * d, a + r0 * D, g + r0 * D, idx + r0 * k_n, u + r0 * k_n, h + r0 * k_n);
  });
}

template <typename T>
void mone_ffn_backward(const T* grad_y, const T* grad_g_extra, const T* x, const int64_t* offsets, const T* w_gate,
                       const T* w_up, const T* w_down, const T* a, const T* g, const int32_t* idx, const T* u,
                       const T* h, MoneDims dims, TopkBackward estimator, MoneStrategy strategy, Activation act,
                       NeuronSelector selector, T* grad_x, T* grad_w_gate, T* grad_w_up, T* grad_w_down) {
  const int64_t d = dims.d, D = dims.D, k_n = dims.k_n;
  strategy = effective_strategy(strategy, dims);
  for_each_expert(offsets, dims, [&](int64_t e) {
    const auto [r0, r1] = rows_of(offsets, e, dims.rows);
    T* gwg = grad_w_gate + e * D * d;
    T* gwu = grad_w_up + e * D * d;
    T* gwd = grad_w_down + e * d * D;
    if (r1 == r0) {  // an expert no row reached: zero weight gradients
      std::fill(gwg, gwg + D * d, T(0));
      std::fill(gwu, gwu + D * d, T(0));
      std::fill(gwd, gwd + d * D, T(0));
      return;
    }
    const Segment s{r1 - r0, d, D, k_n};
    expert_backward(grad_y == nullptr ? nullptr : grad_y + r0 * d,
                    grad_g_extra == nullptr ? nullptr : grad_g_extra + r0 * D, x + r0 * d, w_gate + e * D * d,
                    w_up + e * D * d, w_down + e * d * D, a + r0 * D, g + r0 * D, idx + r0 * k_n, u + r0 * k_n,
                    h + r0 * k_n, s, estimator, strategy, act, selector, grad_x + r0 * d, gwg, gwu, gwd);
  });
}

#define MONE_INSTANTIATE(T)                                                                                       \
  template void mone_ffn_forward<T>(const T*, const int64_t*, const T*, const T*, const T*, MoneDims, Activation,  \
                                    MoneStrategy, NeuronSelector, T*, T*, T*, int32_t*, T*, T*);                  \
  template void mone_ffn_backward<T>(const T*, const T*, const T*, const int64_t*, const T*, const T*, const T*,  \
                                     const T*, const T*, const int32_t*, const T*, const T*, MoneDims,            \
                                     TopkBackward, MoneStrategy, Activation, NeuronSelector, T*, T*, T*, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

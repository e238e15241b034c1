// Attention kernels. Shape letters: B batch, Tq query rows, Tk key rows, H query heads, Hkv kv
// heads, hd head dim.
#include "ops/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/cpu/matmul.h"
#include "ops/cpu/rows.h"

namespace mone::ops::cpu {

namespace {

// Where one (batch, query head) pair's rows live. Rows of a head are H·hd (or Hkv·hd) apart.
struct HeadView {
  int64_t q_off, kv_off;  // element offsets of q/out and k/v
  int64_t ldq, ldkv;
};

HeadView head_view(const AttentionDims& d, int64_t bi, int64_t hi) {
  const int64_t kvh = hi / (d.h / d.hkv);
  return {(bi * d.tq * d.h + hi) * d.hd, (bi * d.tk * d.hkv + kvh) * d.hd, d.h * d.hd, d.hkv * d.hd};
}

// Threads pay only with several heads and enough work; a single head leaves the threads to BLAS.
bool worth_threads(const AttentionDims& d) { return d.b * d.h > 1 && d.b * d.h * d.tq * d.tk * d.hd > 65536; }

}  // namespace

// Queries are processed in blocks of kRows: a block's last row sees at most `seen` keys, so its
// products stop there and the masked upper triangle is (mostly) never computed.
constexpr int64_t kRows = 128;

namespace {

// P = scale · Q Kᵀ for the query rows [i0, i0 + rows) of one head, into p [rows, seen] (leading
// dim Tk): the scores every kernel here starts from.
template <typename T>
void block_scores(T* p, const T* q, const T* k, const HeadView& hv, const AttentionDims& d, int64_t i0, int64_t rows,
                  int64_t seen) {
  const T scale = static_cast<T>(1.0 / std::sqrt(double(d.hd)));
  gemm<T>(false, true, rows, seen, d.hd, scale, q + hv.q_off + i0 * hv.ldq, hv.ldq, k + hv.kv_off, hv.ldkv, T(0), p,
          d.tk);
}

}  // namespace

template <typename T>
void attention_forward(T* out, T* lse, const T* q, const T* k, const T* v, const AttentionDims& d) {
  const int64_t shift = d.tk - d.tq;  // query i sits at the position of key i + shift
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(d))
  for (int64_t bi = 0; bi < d.b; ++bi) {
    for (int64_t hi = 0; hi < d.h; ++hi) {
      const HeadView hv = head_view(d, bi, hi);
      std::vector<T> scratch(std::min(kRows, d.tq) * d.tk);
      for (int64_t i0 = 0; i0 < d.tq; i0 += kRows) {
        const int64_t rows = std::min(kRows, d.tq - i0), seen = std::min(d.tk, i0 + rows + shift);
        T* p = scratch.data();
        block_scores(p, q, k, hv, d, i0, rows, seen);
        // causal softmax per row over the keys j <= i + shift (at least key 0, since Tk >= Tq)
        for (int64_t r = 0; r < rows; ++r) {
          T* row = p + r * d.tk;
          const int64_t row_seen = std::min(d.tk, i0 + r + shift + 1);
          lse[(bi * d.h + hi) * d.tq + i0 + r] = static_cast<T>(row_softmax(row, row_seen, row));
          std::fill(row + row_seen, row + seen, T(0));
        }
        // out = P V [rows, hd]
        gemm<T>(false, false, rows, d.hd, seen, T(1), p, d.tk, v + hv.kv_off, hv.ldkv, T(0),
                out + hv.q_off + i0 * hv.ldq, hv.ldq);
      }
    }
  }
}

template <typename T>
void attention_backward(T* grad_q, T* grad_k, T* grad_v, const T* grad_out, const T* q, const T* k, const T* v,
                        const T* out, const T* lse, const AttentionDims& d) {
  const T scale = static_cast<T>(1.0 / std::sqrt(double(d.hd)));
  const int64_t shift = d.tk - d.tq;
  const int64_t group = d.h / d.hkv;
  // With grouped kv heads several query heads add into one kv head's gradient: each head writes
  // its own part [B, H, Tk, hd] and a second pass sums every group in head order (no races, and
  // the same result on any thread count). With one query head per kv head it writes in place.
  std::vector<T> gk_heads, gv_heads;
  if (group > 1) {
    gk_heads.resize(d.b * d.h * d.tk * d.hd);
    gv_heads.resize(gk_heads.size());
  }
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(d))
  for (int64_t bi = 0; bi < d.b; ++bi) {
    for (int64_t hi = 0; hi < d.h; ++hi) {
      const HeadView hv = head_view(d, bi, hi);
      const int64_t part = (bi * d.h + hi) * d.tk * d.hd;
      T* gk = group > 1 ? gk_heads.data() + part : grad_k + hv.kv_off;
      T* gv = group > 1 ? gv_heads.data() + part : grad_v + hv.kv_off;
      const int64_t ld_part = group > 1 ? d.hd : hv.ldkv;
      // grad_k and grad_v collect one term per query block
      for (int64_t j = 0; j < d.tk; ++j) {
        std::fill(gk + j * ld_part, gk + j * ld_part + d.hd, T(0));
        std::fill(gv + j * ld_part, gv + j * ld_part + d.hd, T(0));
      }
      std::vector<T> p_block(std::min(kRows, d.tq) * d.tk), ds(p_block.size());
      for (int64_t i0 = 0; i0 < d.tq; i0 += kRows) {
        const int64_t rows = std::min(kRows, d.tq - i0), seen = std::min(d.tk, i0 + rows + shift);
        // P = exp(S - lse) [rows, seen], 0 beyond each row's causal limit
        T* p = p_block.data();
        block_scores(p, q, k, hv, d, i0, rows, seen);
        for (int64_t r = 0; r < rows; ++r) {
          T* row = p + r * d.tk;
          const int64_t row_seen = std::min(d.tk, i0 + r + shift + 1);
          const T row_lse = lse[(bi * d.h + hi) * d.tq + i0 + r];
          row_exp_shifted(row, row_seen, row_lse, row);
          std::fill(row + row_seen, row + seen, T(0));
        }
        const T* go = grad_out + hv.q_off + i0 * hv.ldq;
        // grad_v += Pᵀ grad_out [seen, hd]
        gemm<T>(true, false, seen, d.hd, rows, T(1), p, d.tk, go, hv.ldq, T(1), gv, ld_part);
        // dP = grad_out Vᵀ [rows, seen]
        gemm<T>(false, true, rows, seen, d.hd, T(1), go, hv.ldq, v + hv.kv_off, hv.ldkv, T(0), ds.data(), d.tk);
        // softmax backward per row: dS_ij = P_ij (dP_ij - D_i), D_i = Σ_c grad_out_ic out_ic
        // (= Σ_j P_ij dP_ij, since out = P V); masked keys have P = 0
        for (int64_t r = 0; r < rows; ++r) {
          const T* pr = p + r * d.tk;
          const T* go_r = go + r * hv.ldq;
          const T* out_r = out + hv.q_off + (i0 + r) * hv.ldq;
          double dot = 0.0;
          for (int64_t c = 0; c < d.hd; ++c) dot += double(go_r[c]) * double(out_r[c]);
          T* row = ds.data() + r * d.tk;
          for (int64_t j = 0; j < seen; ++j) row[j] = pr[j] * (row[j] - static_cast<T>(dot));
        }
        // S = scale · Q Kᵀ, so grad_q = scale · dS K [rows, hd] and grad_k += scale · dSᵀ Q [seen, hd]
        gemm<T>(false, false, rows, d.hd, seen, scale, ds.data(), d.tk, k + hv.kv_off, hv.ldkv, T(0),
                grad_q + hv.q_off + i0 * hv.ldq, hv.ldq);
        gemm<T>(true, false, seen, d.hd, rows, scale, ds.data(), d.tk, q + hv.q_off + i0 * hv.ldq, hv.ldq, T(1), gk,
                ld_part);
      }
    }
  }
  if (group == 1) return;
  // Sum each group's per-head parts into its kv head: grad_k[b, j, g, :] = Σ_{h in g} part[b, h, j, :].
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(d))
  for (int64_t bi = 0; bi < d.b; ++bi) {
    for (int64_t j = 0; j < d.tk; ++j) {
      for (int64_t g = 0; g < d.hkv; ++g) {
        T* gk = grad_k + ((bi * d.tk + j) * d.hkv + g) * d.hd;
        T* gv = grad_v + ((bi * d.tk + j) * d.hkv + g) * d.hd;
        std::fill(gk, gk + d.hd, T(0));
        std::fill(gv, gv + d.hd, T(0));
        for (int64_t hi = g * group; hi < (g + 1) * group; ++hi) {
          const int64_t part = ((bi * d.h + hi) * d.tk + j) * d.hd;
          for (int64_t c = 0; c < d.hd; ++c) {
            gk[c] += gk_heads[part + c];
            gv[c] += gv_heads[part + c];
          }
        }
      }
    }
  }
}

#define MONE_INSTANTIATE(T)                                                                            \
  template void attention_forward<T>(T*, T*, const T*, const T*, const T*, const AttentionDims&);     \
  template void attention_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, \
                                      const T*, const AttentionDims&);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

// The gathered MoNE primitives (ops/cpu/gathered.h): the two ways of reading W_down's selected
// columns (in place, and from a transposed copy), for the down projection and for the backward's
// dH, give the same bits, in f32 (AVX2 where the CPU has it) and f64, with rows that are not a
// multiple of the vector width and repeated ids; and the gathered forward and backward of a token
// do not depend on how many tokens share its segment (1 row: columns read and dW_down written in
// place; 64 rows: the transposed copies).
// Shape letters: d rows of W_down (the model width), D its columns (the expert width), n picked.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"
#include "ops/cpu/gathered.h"
#include "ops/mone_ffn.h"

using namespace mone;

namespace {

template <typename T>
void check_columns_axpy(int64_t d, int64_t D, const std::vector<int32_t>& ids) {
  CAPTURE(d);
  CAPTURE(D);
  Generator gen(11);
  const std::vector<T> mat = randn({d, D}, DType::kF64, gen).to_vector<T>();
  const int64_t n = static_cast<int64_t>(ids.size());
  const std::vector<T> coef = randn({n}, DType::kF64, gen).to_vector<T>();
  std::vector<T> transposed(D * d), by_rows(d, T(-1)), in_place(d, T(-1));
  ops::cpu::transpose(mat.data(), d, D, transposed.data());
  ops::cpu::gather_axpy(transposed.data(), ids.data(), coef.data(), n, d, by_rows.data());
  ops::cpu::gather_columns_axpy(mat.data(), d, D, ids.data(), coef.data(), n, in_place.data());
  CHECK(in_place == by_rows);  // the same bits
  // And both are the sum itself (f64 reference).
  double worst = 0;
  for (int64_t r = 0; r < d; ++r) {
    double ref = 0;
    for (int64_t i = 0; i < n; ++i) ref += static_cast<double>(coef[i]) * static_cast<double>(mat[r * D + ids[i]]);
    worst = std::max(worst, std::abs(ref - static_cast<double>(in_place[r])));
  }
  CHECK(worst < (sizeof(T) == 4 ? 1e-4 : 1e-12));
}

template <typename T>
void check_columns_dot(int64_t d, int64_t D, const std::vector<int32_t>& ids) {
  CAPTURE(d);
  Generator gen(12);
  const std::vector<T> mat = randn({d, D}, DType::kF64, gen).to_vector<T>();
  const std::vector<T> v = randn({d}, DType::kF64, gen).to_vector<T>();
  const int64_t n = static_cast<int64_t>(ids.size());
  std::vector<T> transposed(D * d), by_rows(n, T(-1)), in_place(n, T(-1));
  ops::cpu::transpose(mat.data(), d, D, transposed.data());
  ops::cpu::gather_dot(transposed.data(), ids.data(), n, v.data(), d, by_rows.data());
  ops::cpu::gather_columns_dot(mat.data(), d, D, ids.data(), n, v.data(), in_place.data());
  CHECK(in_place == by_rows);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    double ref = 0;
    for (int64_t r = 0; r < d; ++r) ref += static_cast<double>(mat[r * D + ids[i]]) * static_cast<double>(v[r]);
    worst = std::max(worst, std::abs(ref - static_cast<double>(in_place[i])));
  }
  CHECK(worst < (sizeof(T) == 4 ? 1e-4 : 1e-12));
}

bool same_bits(const Tensor& a, const Tensor& b) { return a.to_vector<float>() == b.to_vector<float>(); }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("gathered down projection: W_down's columns read in place give the transposed copy's bits") {
  const std::vector<int32_t> ids = {3, 0, 99, 17, 17, 42, 5, 64, 63, 1, 98, 7, 50};  // repeats, any order
  for (int64_t d : {1, 8, 37, 64, 70}) {
    check_columns_axpy<float>(d, 100, ids);
    check_columns_axpy<double>(d, 100, ids);
  }
  check_columns_axpy<float>(16, 100, {});  // nothing picked: zeros
}

TEST_CASE("gathered dH: W_down's columns dotted in place give the transposed copy's bits") {
  const std::vector<int32_t> ids = {3, 0, 99, 17, 17, 42, 5, 64, 63, 1, 98, 7, 50};
  for (int64_t d : {1, 8, 37, 64, 70}) {
    check_columns_dot<float>(d, 100, ids);
    check_columns_dot<double>(d, 100, ids);
  }
}

TEST_CASE("gathered MoNE forward: a token's output does not depend on how many tokens share its segment") {
  // d = 24, D = 64, K_N = 8: one row (T_e K_N = 8 <= 2 D) reads W_down in place, 64 rows
  // (512 > 128) go through the transposed copy.
  // x, W_gate and W_up hold multiples of 1/8 in [-1, 1], so every G and U is exact whatever order
  // the GEMM sums in: BLAS may sum a row in another order when it is one of 64 than when alone
  // (OpenBLAS's Haswell kernels do). The down projection, the part under test, sums real floats.
  const int64_t d = 24, D = 64, T = 64;
  Generator gen(5);
  const auto eighths = [&gen](std::vector<int64_t> shape) {
    std::vector<float> v = randn(shape, DType::kF32, gen).to_vector<float>();
    for (float& e : v) e = std::clamp(std::round(e * 4.0f), -8.0f, 8.0f) / 8.0f;
    return value_or_die(Tensor::from_vector(v, shape));
  };
  const Tensor x = eighths({T, d});
  const Tensor w_gate = eighths({D, d}), w_up = eighths({D, d});
  const Tensor w_down = randn({d, D}, DType::kF32, gen);
  const ops::MoneFfnConfig c{8, ops::Activation::kSilu, ops::MoneStrategy::kGathered, ops::TopkBackward::kHard};
  const auto all = value_or_die(ops::mone_ffn_forward(x, Tensor(), w_gate, w_up, w_down, c));
  const std::vector<float> y_all = all.y.to_vector<float>();
  bool same = true;
  for (int64_t t : {0, 13, 63}) {
    const Tensor row = value_or_die(x.slice(0, t, t + 1)).contiguous();
    const auto one = value_or_die(ops::mone_ffn_forward(row, Tensor(), w_gate, w_up, w_down, c));
    const std::vector<float> y_one = one.y.to_vector<float>();
    for (int64_t i = 0; i < d; ++i) same = same && y_one[i] == y_all[t * d + i];
  }
  CHECK(same);

  // Backward: the segment's weight gradients with dy zero on every row but t are token t's alone
  // (the other rows add exact zeros), so they equal its gradients computed by itself.
  for (int64_t t : {0, 40}) {
    CAPTURE(t);
    std::vector<float> dy_all(T * d, 0.0f);
    Generator g2(6);
    const std::vector<float> dy_row = randn({d}, DType::kF32, g2).to_vector<float>();
    std::copy(dy_row.begin(), dy_row.end(), dy_all.begin() + t * d);
    const Tensor dy = value_or_die(Tensor::from_vector(dy_all, {T, d}));
    const auto g_all = value_or_die(ops::mone_ffn_backward(dy, Tensor(), x, Tensor(), w_gate, w_up, w_down, all, c));
    const Tensor row = value_or_die(x.slice(0, t, t + 1)).contiguous();
    const auto one = value_or_die(ops::mone_ffn_forward(row, Tensor(), w_gate, w_up, w_down, c));
    const Tensor dy_one = value_or_die(Tensor::from_vector(dy_row, {1, d}));
    const auto g_one = value_or_die(ops::mone_ffn_backward(dy_one, Tensor(), row, Tensor(), w_gate, w_up, w_down, one, c));
    CHECK(same_bits(g_all.grad_w_down, g_one.grad_w_down));
    CHECK(same_bits(g_all.grad_w_up, g_one.grad_w_up));
  }
}

}  // TEST_SUITE("unit")

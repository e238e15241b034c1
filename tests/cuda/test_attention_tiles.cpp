// The CUDA attention kernels' block bodies (cuda/attention_tiles.h), run on the CPU by an emulated
// thread block: every step runs for each of the 128 threads in turn, each with its own state, and
// the block meets between steps as it does at __syncthreads(). This checks, without a GPU, the
// tiling, the causal mask with a KV-cache offset, grouped kv heads, the online softmax, the
// backward's two passes and every write; not the GPU's barriers, memory or launch.
//
// Besides matching an f64 reference, each run is repeated with the threads of every step taken in
// reverse order, and must agree bit for bit: a thread reading what another writes in the same step
// (a missing barrier) would differ. State and shared memory start as NaN, outputs too, so a read
// of something never written, or an output never written, shows.
//
// Shape letters: B, Tq, Tk, H, Hkv, hd as in ops/attention.h.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "cuda/attention_tiles.h"
#include "ops/attention.h"
#include "tests/cuda/cuda_test_util.h"

namespace mone::cuda::attention_tiles {
// The CPU side of a bf16 element (cuda/attention.cu has the GPU side).
template <>
struct Elem<bf16> {
  static float load(const bf16* p) { return static_cast<float>(*p); }
  static Vec4 load4(const bf16* p) { return {{load(p), load(p + 1), load(p + 2), load(p + 3)}}; }
  static void store(bf16* p, float x) { *p = bf16(x); }
};
}  // namespace mone::cuda::attention_tiles

using namespace mone;
using namespace mone::cuda::attention_tiles;
using namespace mone::cuda_test;
using cuda::AttentionDims;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// A thread block on the CPU: step(f) runs f(tid, state of tid) for every thread, in order or
// reversed. States start as NaN (registers are not zeroed on the GPU either).
template <class State>
struct CpuBlock {
  std::vector<State> st;
  bool reverse;
  explicit CpuBlock(bool reverse_) : st(kThreads), reverse(reverse_) {
    for (State& s : st) {
      float* f = reinterpret_cast<float*>(&s);
      std::fill(f, f + sizeof(State) / sizeof(float), kNaN);
    }
  }
  template <class F>
  void step(F&& f) {
    for (int i = 0; i < kThreads; ++i) {
      const int tid = reverse ? kThreads - 1 - i : i;
      f(tid, st[tid]);
    }
  }
};

// Every block of a kernel, one after another, each on freshly poisoned shared memory.
template <class State, class Body>
void run_blocks(int64_t blocks, int floats, bool reverse, Body body) {
  std::vector<float> smem(floats);
  for (int64_t b = 0; b < blocks; ++b) {
    std::fill(smem.begin(), smem.end(), kNaN);
    CpuBlock<State> ex(reverse);
    body(ex, smem.data(), b);
  }
}

template <int HD, typename T>
void emulate_forward(const ForwardArgs<T>& a, bool reverse) {
  run_blocks<ForwardState<HD>>(query_blocks<HD>(a.d), Tiles<HD>::kForwardFloats, reverse,
                               [&](auto& ex, float* smem, int64_t b) { forward_block<HD>(ex, smem, a, b); });
}

template <int HD, typename T>
void emulate_backward(const BackwardArgs<T>& a, bool reverse) {
  for (int64_t r = 0; r < a.d.b * a.d.tq * a.d.h; ++r) delta_row(a, r);
  run_blocks<GradQState<HD>>(query_blocks<HD>(a.d), Tiles<HD>::kGradQFloats, reverse,
                             [&](auto& ex, float* smem, int64_t b) { grad_q_block<HD>(ex, smem, a, b); });
  run_blocks<GradKvState<HD>>(key_blocks<HD>(a.d), Tiles<HD>::kGradKvFloats, reverse,
                              [&](auto& ex, float* smem, int64_t b) { grad_kv_block<HD>(ex, smem, a, b); });
}

// Host buffers of element type T (float or bf16) holding a tensor's values.
template <typename T>
std::vector<T> elements(const Tensor& t) {
  std::vector<T> out;
  for (double x : t.to_vector<double>()) out.push_back(T(static_cast<float>(x)));
  return out;
}

template <typename T>
std::vector<double> as_double(const std::vector<T>& v) {
  std::vector<double> out;
  for (const T& x : v) out.push_back(static_cast<double>(static_cast<float>(x)));
  return out;
}

// The f64 tensor holding exactly the values of `v` (so the reference sees the rounded bf16 inputs).
Tensor f64_tensor(const std::vector<double>& v, const Shape& shape) {
  return value_or_die(Tensor::from_vector<double>(v, shape));
}

struct Run {
  std::vector<double> out, lse, grad_q, grad_k, grad_v;
  bool operator==(const Run&) const = default;
};

// Forward and backward through the emulated kernels on element type T.
template <typename T>
Run emulated_run(const AttentionDims& d, const std::vector<T>& q, const std::vector<T>& k, const std::vector<T>& v,
                 const std::vector<T>& go, bool reverse, bool allow_vec) {
  const T poison = T(kNaN);
  std::vector<T> out(q.size(), poison), gq(q.size(), poison), gk(k.size(), poison), gv(v.size(), poison);
  std::vector<float> lse(d.b * d.h * d.tq, kNaN), delta(lse.size(), kNaN);
  ForwardArgs<T> fa = forward_args(out.data(), lse.data(), q.data(), k.data(), v.data(), d);
  fa.vec = fa.vec && allow_vec;
  with_padded_head_dim(d.hd, [&](auto hd) { emulate_forward<decltype(hd)::value>(fa, reverse); });
  BackwardArgs<T> ba = backward_args(gq.data(), gk.data(), gv.data(), delta.data(), go.data(), q.data(), k.data(),
                                     v.data(), out.data(), lse.data(), d);
  ba.vec = ba.vec && allow_vec;
  with_padded_head_dim(d.hd, [&](auto hd) { emulate_backward<decltype(hd)::value>(ba, reverse); });
  return {as_double(out), as_double(lse), as_double(gq), as_double(gk), as_double(gv)};
}

// Emulated kernels against ops::attention in f64 on the same (rounded) inputs; forward and
// backward; then the reversed thread order and, where rows vectorise, the scalar loads, bit for bit.
template <typename T>
void check_case(const AttentionDims& d, double tol, uint64_t seed) {
  const std::string what = dims_string(d);
  CAPTURE(what);
  const Shape qs{d.b, d.tq, d.h, d.hd}, ks{d.b, d.tk, d.hkv, d.hd};
  Generator gen(seed);
  const std::vector<T> q = elements<T>(randn(qs, DType::kF32, gen)), k = elements<T>(randn(ks, DType::kF32, gen)),
                       v = elements<T>(randn(ks, DType::kF32, gen)), go = elements<T>(randn(qs, DType::kF32, gen));
  const Run run = emulated_run(d, q, k, v, go, false, true);

  const Tensor q64 = f64_tensor(as_double(q), qs), k64 = f64_tensor(as_double(k), ks),
               v64 = f64_tensor(as_double(v), ks), go64 = f64_tensor(as_double(go), qs);
  const ops::AttentionForward f = value_or_die(ops::attention(q64, k64, v64));
  const ops::AttentionGrads g = value_or_die(ops::attention_backward(go64, q64, k64, v64, f));
  // With Tk = 1 the softmax is the constant 1, so grad_q and grad_k are zero in exact arithmetic: the
  // f64 reference holds rounding noise there (1e-16, from the order of its dot products on this
  // CPU), the emulation 0. Inputs are standard normal, so every other value is of order 1: a scale
  // of at least 1e-3 keeps the check relative everywhere else.
  const auto error = [](const std::vector<double>& x, const Tensor& ref) {
    return normwise_error(x, ref.to_vector<double>(), 1e-3);
  };
  CHECK(error(run.out, f.out) <= tol);
  CHECK(error(run.lse, f.lse) <= tol);
  CHECK(error(run.grad_q, g.grad_q) <= tol);
  CHECK(error(run.grad_k, g.grad_k) <= tol);
  CHECK(error(run.grad_v, g.grad_v) <= tol);

  CHECK_MESSAGE(emulated_run(d, q, k, v, go, true, true) == run, "threads in reverse order changed the result");
  if (d.hd % 4 == 0) CHECK_MESSAGE(emulated_run(d, q, k, v, go, false, false) == run, "scalar loads differ");
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("attention tiles (CPU emulation of the CUDA blocks): T = 1, 7, 65, 257; hd 32, 64, 128; GQA; KV cache") {
  // f32 against f64: 3e-6 normwise. Measured here: at most 1.0e-6 (grad_v, T = 65, hd 128); the
  // tiles' dot products run hd terms in sequence and grad_k sums up to Tq·H/Hkv terms per row.
  const std::vector<AttentionDims> cases = {
      {1, 1, 1, 1, 1, 32},     {2, 7, 7, 2, 1, 64},      {1, 65, 65, 4, 2, 128}, {1, 257, 257, 2, 2, 64},
      {2, 65, 65, 4, 1, 32},   {1, 7, 70, 4, 2, 64},     {1, 1, 257, 4, 1, 128}, {1, 65, 130, 2, 1, 128},
      {1, 33, 33, 2, 2, 3},    {1, 66, 67, 2, 1, 17},    {1, 9, 12, 3, 3, 40},   {2, 1, 5, 2, 2, 100},
      {1, 257, 257, 1, 1, 128}};
  uint64_t seed = 10;
  for (const AttentionDims& d : cases) check_case<float>(d, 3e-6, seed += 7);
}

TEST_CASE("attention tiles (CPU emulation): bf16 elements against f64 on the same rounded inputs") {
  // The inputs are bf16 on both sides; what remains is f32 arithmetic and the rounding of out and
  // the gradients to bf16 (2^-9 relative, and grad_out · out in delta from the rounded out):
  // 1e-2 normwise. Measured here: at most 3.2e-3.
  const std::vector<AttentionDims> cases = {{1, 65, 65, 4, 2, 64}, {2, 7, 20, 2, 1, 128}, {1, 33, 33, 2, 2, 30}};
  uint64_t seed = 500;
  for (const AttentionDims& d : cases) check_case<bf16>(d, 1e-2, seed += 7);
}

TEST_CASE("attention tiles: the launch arithmetic") {
  CHECK(padded_head_dim(1) == 32);
  CHECK(padded_head_dim(32) == 32);
  CHECK(padded_head_dim(33) == 64);
  CHECK(padded_head_dim(128) == 128);
  CHECK(padded_head_dim(129) == 0);
  const AttentionDims d{2, 65, 70, 4, 2, 64};
  CHECK(query_blocks<64>(d) == 2 * 4 * 2);  // 65 queries: two tiles of 64
  CHECK(key_blocks<64>(d) == 2 * 2 * 3);    // 70 keys: three tiles of 32
  CHECK(valid_dims(d));
  CHECK_FALSE(valid_dims({1, 5, 4, 2, 2, 8}));    // Tk < Tq
  CHECK_FALSE(valid_dims({1, 4, 4, 3, 2, 8}));    // H not a multiple of Hkv
  CHECK_FALSE(valid_dims({1, 4, 4, 2, 2, 129}));  // hd above 128
  // Shared memory fits two blocks per multiprocessor of an H200 (227 KB per block, 228 KB per SM).
  for (int floats : {Tiles<128>::kForwardFloats, Tiles<128>::kGradQFloats, Tiles<128>::kGradKvFloats,
                     Tiles<64>::kForwardFloats, Tiles<64>::kGradQFloats, Tiles<64>::kGradKvFloats}) {
    CHECK(2 * (floats * 4 + 1024) <= 228 * 1024);
  }
}

}  // TEST_SUITE

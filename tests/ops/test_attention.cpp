// Causal attention with grouped kv heads: against naive f64 loops, the causal limit, decoding one
// query against a cache, gradchecks (MHA, GQA with Tq < Tk), errors.
// Shape letters: B, Tq, Tk, H, Hkv, hd (see ops/attention.h).
#include <doctest/doctest.h>

#include "autograd/attention.h"
#include "autograd/gradcheck.h"
#include "ops/attention.h"
#include "tests/ops/dense_test_util.h"

using namespace mone;
using namespace mone::dense_test;

namespace {

struct Dims {
  int64_t b, tq, tk, h, hkv, hd;
};

struct Naive {
  std::vector<double> out, lse;
};

// Softmax over the keys j <= i + Tk - Tq of q_i · k_j / sqrt(hd), then the weighted sum of v.
Naive naive_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Dims& d) {
  const auto qv = q.to_vector<double>(), kv = k.to_vector<double>(), vv = v.to_vector<double>();
  Naive r{std::vector<double>(qv.size(), 0.0), std::vector<double>(d.b * d.h * d.tq, 0.0)};
  for (int64_t b = 0; b < d.b; ++b) {
    for (int64_t h = 0; h < d.h; ++h) {
      const int64_t g = h / (d.h / d.hkv);
      for (int64_t i = 0; i < d.tq; ++i) {
        const int64_t last = i + d.tk - d.tq;
        std::vector<double> s(last + 1);
        double mx = -1e300, sum = 0.0;
        for (int64_t j = 0; j <= last; ++j) {
          double dot = 0.0;
          for (int64_t c = 0; c < d.hd; ++c) {
            dot += qv[((b * d.tq + i) * d.h + h) * d.hd + c] * kv[((b * d.tk + j) * d.hkv + g) * d.hd + c];
          }
          s[j] = dot / std::sqrt(double(d.hd));
          mx = std::max(mx, s[j]);
        }
        for (double& x : s) sum += (x = std::exp(x - mx));
        r.lse[(b * d.h + h) * d.tq + i] = mx + std::log(sum);
        for (int64_t j = 0; j <= last; ++j) {
          const double p = s[j] / sum;
          for (int64_t c = 0; c < d.hd; ++c) {
            r.out[((b * d.tq + i) * d.h + h) * d.hd + c] += p * vv[((b * d.tk + j) * d.hkv + g) * d.hd + c];
          }
        }
      }
    }
  }
  return r;
}

struct Qkv {
  Tensor q, k, v;
};
Qkv make_qkv(const Dims& d, DType dt, uint64_t seed) {
  return {random({d.b, d.tq, d.h, d.hd}, dt, seed), random({d.b, d.tk, d.hkv, d.hd}, dt, seed + 1),
          random({d.b, d.tk, d.hkv, d.hd}, dt, seed + 2)};
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("attention matches naive loops: MHA, GQA, MQA, Tq < Tk, unit sizes, f32 and f64") {
  const std::vector<Dims> cases = {
      {1, 1, 1, 1, 1, 1}, {2, 3, 3, 2, 2, 4}, {2, 3, 5, 4, 2, 3}, {1, 4, 7, 6, 1, 5}, {1, 1, 9, 4, 2, 8}, {2, 17, 17, 3, 3, 7},
      {1, 200, 260, 2, 1, 8}};  // the last: several blocks of query rows in the CPU kernel
  uint64_t seed = 1;
  for (DType dt : {DType::kF32, DType::kF64}) {
    for (const Dims& d : cases) {
      const Qkv x = make_qkv(d, dt, seed += 3);
      auto f = value_or_die(ops::attention(x.q, x.k, x.v));
      REQUIRE(f.out.shape() == x.q.shape());
      REQUIRE(f.lse.shape() == Shape{d.b, d.h, d.tq});
      CHECK(f.lse.dtype() == dt);
      const Naive ref = naive_attention(x.q, x.k, x.v, d);
      CHECK(max_abs_diff(f.out, ref.out) <= tolerance(dt, d.hd + d.tk));
      CHECK(max_abs_diff(f.lse, ref.lse) <= tolerance(dt, d.hd + d.tk));
    }
  }
}

TEST_CASE("attention: a key beyond a query's causal limit does not affect that query") {
  const Dims d{1, 5, 5, 2, 1, 4};
  Qkv x = make_qkv(d, DType::kF64, 100);
  const Tensor before = value_or_die(ops::attention(x.q, x.k, x.v)).out;
  // Perturb key and value at position 3: queries 0..2 cannot see it, queries 3..4 can.
  for (Tensor* t : {&x.k, &x.v}) {
    Tensor c = t->clone();
    for (int64_t i = 3 * d.hd; i < 4 * d.hd; ++i) c.data<double>()[i] += 5.0;
    *t = c;
  }
  const Tensor after = value_or_die(ops::attention(x.q, x.k, x.v)).out;
  CHECK(max_abs_diff(value_or_die(before.slice(1, 0, 3)), value_or_die(after.slice(1, 0, 3))) == 0.0);
  CHECK(max_abs_diff(value_or_die(before.slice(1, 3, 4)), value_or_die(after.slice(1, 3, 4))) > 1e-3);
}

TEST_CASE("attention: the last query alone against all keys equals the last row of full attention") {
  // What decoding with a KV cache computes: Tq = 1, Tk = every position so far.
  const Dims d{2, 6, 6, 4, 2, 8};
  const Qkv x = make_qkv(d, DType::kF32, 200);
  const Tensor full = value_or_die(ops::attention(x.q, x.k, x.v)).out;
  const Tensor last_q = value_or_die(x.q.slice(1, 5, 6));
  const Tensor one = value_or_die(ops::attention(last_q, x.k, x.v)).out;
  CHECK(max_abs_diff(one, value_or_die(full.slice(1, 5, 6))) <= 1e-6);
}

TEST_CASE("attention_backward in f32 agrees with f64 (GQA)") {
  const Dims d{2, 4, 6, 4, 2, 8};
  const Qkv x = make_qkv(d, DType::kF64, 300);
  const Tensor go = random(x.q.shape(), DType::kF64, 303);
  auto f64 = value_or_die(ops::attention(x.q, x.k, x.v));
  auto g64 = value_or_die(ops::attention_backward(go, x.q, x.k, x.v, f64));
  auto c = [](const Tensor& t) { return value_or_die(t.to(DType::kF32)); };
  auto f32 = value_or_die(ops::attention(c(x.q), c(x.k), c(x.v)));
  auto g32 = value_or_die(ops::attention_backward(c(go), c(x.q), c(x.k), c(x.v), f32));
  CHECK(max_abs_diff(g32.grad_q, g64.grad_q) <= 1e-5);
  CHECK(max_abs_diff(g32.grad_k, g64.grad_k) <= 1e-5);
  CHECK(max_abs_diff(g32.grad_v, g64.grad_v) <= 1e-5);
}

TEST_CASE("attention: bad shapes are errors naming the op and shapes") {
  Tensor q = Tensor::zeros({1, 4, 4, 8}), k = Tensor::zeros({1, 4, 2, 8});
  check_error(ops::attention(q, Tensor::zeros({1, 3, 2, 8}), Tensor::zeros({1, 3, 2, 8})),
              {"attention", "Tk < Tq", "q is f32[1, 4, 4, 8]", "k is f32[1, 3, 2, 8]"});
  check_error(ops::attention(q, Tensor::zeros({1, 4, 3, 8}), Tensor::zeros({1, 4, 3, 8})), {"attention", "multiple of kv heads"});
  check_error(ops::attention(q, k, Tensor::zeros({1, 4, 2, 7})), {"attention", "k and v differ"});
  check_error(ops::attention(q, Tensor::zeros({1, 4, 2, 6}), Tensor::zeros({1, 4, 2, 6})), {"head dims differ"});
  check_error(ops::attention(q, Tensor::zeros({2, 4, 2, 8}), Tensor::zeros({2, 4, 2, 8})), {"batch sizes differ"});
  check_error(ops::attention(Tensor::zeros({4, 4, 8}), k, k), {"attention", "4-D"});
  check_error(ops::attention(Tensor::zeros({1, 4, 4, 0}), Tensor::zeros({1, 4, 2, 0}), Tensor::zeros({1, 4, 2, 0})), {"head dim is 0"});
  check_error(ops::attention(q, Tensor::zeros({1, 4, 2, 8}, DType::kF64), k), {"attention", "differ in dtype"});
  auto f = value_or_die(ops::attention(q, k, k));
  check_error(ops::attention_backward(Tensor::zeros({1, 4, 4, 7}), q, k, k, f), {"attention_backward", "grad_out"});
  check_error(ops::attention_backward(q, q, k, k, {f.out, Tensor::zeros({1, 4, 3})}),
              {"attention_backward", "forward.lse", "[1, 4, 4]"});
  check_error(ops::attention_backward(q, q, k, k, {f.out, Tensor::zeros({1, 4, 4}, DType::kF64)}),
              {"attention_backward", "forward.lse", "expected dtype f32"});
  check_error(ops::attention_backward(q, q, k, k, {Tensor::zeros({1, 4, 4, 7}), f.lse}),
              {"attention_backward", "forward.out"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: attention, MHA with Tq = Tk and GQA with Tq < Tk") {
  using autograd::Variable;
  // The last case spans two blocks of query rows in the CPU kernel (128 rows each).
  for (const Dims& d : {Dims{2, 3, 3, 2, 2, 3}, Dims{2, 2, 4, 4, 2, 3}, Dims{1, 3, 5, 3, 1, 2}, Dims{1, 130, 133, 2, 1, 1}}) {
    const Qkv x = make_qkv(d, DType::kF64, 400);
    Variable q(x.q, true, "q"), k(x.k, true, "k"), v(x.v, true, "v");
    auto fn = [](const std::vector<Variable>& in) { return autograd::attention(in[0], in[1], in[2]); };
    Status s = autograd::gradcheck(fn, {q, k, v});
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

}  // TEST_SUITE("gradcheck")

// CUDA attention (cuda/attention.cu) against the CPU in f64 on the same inputs: forward (out, lse)
// and backward, f32 and bf16, odd sizes, grouped kv heads, a KV-cache offset; two backward runs
// identical bit for bit. Without a GPU each case says so and checks that CUDA tensors fail cleanly.
//
// Tolerances (normwise: max |gpu - ref| / max |ref|). f32: 1e-5; the same block bodies, emulated on
// the CPU in f32 (test_attention_tiles.cpp), land at most 1.0e-6 from f64 on these sizes, and the
// GPU only adds fused multiply-adds and exp2f's few ulps. bf16 (inputs rounded on both sides, f32
// arithmetic, outputs rounded to bf16): 1e-2; emulated, at most 3.2e-3.
// Shape letters: B, Tq, Tk, H, Hkv, hd as in ops/attention.h.
#include <doctest/doctest.h>

#include "ops/attention.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {

using AttentionCase = cuda::AttentionDims;

void check_case(const AttentionCase& c, DType dtype, double tol, uint64_t seed) {
  const std::string what = dims_string(c) + ", " + dtype_name(dtype);
  CAPTURE(what);
  Generator gen(seed);
  const Input q = random_input({c.b, c.tq, c.h, c.hd}, dtype, gen), k = random_input({c.b, c.tk, c.hkv, c.hd}, dtype, gen),
              v = random_input({c.b, c.tk, c.hkv, c.hd}, dtype, gen), go = random_input({c.b, c.tq, c.h, c.hd}, dtype, gen);
  const ops::AttentionForward ref = value_or_die(ops::attention(q.f64, k.f64, v.f64));
  const ops::AttentionGrads ref_g = value_or_die(ops::attention_backward(go.f64, q.f64, k.f64, v.f64, ref));

  const Tensor dq = to_gpu(q.x), dk = to_gpu(k.x), dv = to_gpu(v.x), dgo = to_gpu(go.x);
  const ops::AttentionForward f = value_or_die(ops::attention(dq, dk, dv));
  CHECK(f.out.dtype() == dtype);
  CHECK(f.lse.dtype() == DType::kF32);
  check_close("attention", f.out, ref.out, tol);
  check_close("attention lse", f.lse, ref.lse, tol);
  const ops::AttentionGrads g = value_or_die(ops::attention_backward(dgo, dq, dk, dv, f));
  check_close("attention_backward q", g.grad_q, ref_g.grad_q, tol);
  check_close("attention_backward k", g.grad_k, ref_g.grad_k, tol);
  check_close("attention_backward v", g.grad_v, ref_g.grad_v, tol);
  // No atomics: the same inputs give the same bits.
  const ops::AttentionGrads again = value_or_die(ops::attention_backward(dgo, dq, dk, dv, f));
  CHECK(bitwise_equal(g.grad_q, again.grad_q));
  CHECK(bitwise_equal(g.grad_k, again.grad_k));
  CHECK(bitwise_equal(g.grad_v, again.grad_v));
}

}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: attention forward and backward match the CPU (f32; T = 1, 7, 65, 257; hd 32, 64, 128; GQA 1, 2, 4)") {
  if (skip_without_gpu()) return;
  uint64_t seed = 1;
  for (int64_t t : {1, 7, 65, 257}) {
    for (int64_t hd : {32, 64, 128}) {
      for (int64_t ratio : {1, 2, 4}) check_case({2, t, t, 4, 4 / ratio, hd}, DType::kF32, 1e-5, seed += 5);
    }
  }
}

TEST_CASE("cuda: attention with a KV-cache offset, odd head dims, size 1 and no queries (f32)") {
  if (skip_without_gpu()) return;
  const std::vector<AttentionCase> cases = {
      {1, 1, 1, 1, 1, 1},      // size 1
      {1, 1, 300, 8, 2, 64},   // decoding one query against a cache
      {2, 7, 70, 4, 2, 128},   // a chunk of queries after a cache
      {1, 65, 130, 2, 1, 32},  //
      {1, 33, 33, 2, 2, 3},    // head dims that do not vectorise
      {1, 66, 67, 4, 1, 17},   //
      {2, 9, 12, 3, 3, 100},   //
      {1, 0, 5, 2, 1, 8},      // no queries: grad_k and grad_v are zero
  };
  uint64_t seed = 100;
  for (const AttentionCase& c : cases) check_case(c, DType::kF32, 1e-5, seed += 5);
}

TEST_CASE("cuda: attention in bf16 (f32 arithmetic) matches the CPU on the same rounded inputs") {
  if (skip_without_gpu()) return;
  const std::vector<AttentionCase> cases = {{2, 65, 65, 4, 2, 64}, {1, 257, 257, 4, 1, 128}, {1, 7, 20, 2, 2, 32},
                                   {1, 33, 33, 2, 1, 30}};
  uint64_t seed = 200;
  for (const AttentionCase& c : cases) check_case(c, DType::kBF16, 1e-2, seed += 5);
}

TEST_CASE("cuda: attention errors (f64, head dim above 128) are Statuses naming the op") {
  if (skip_without_gpu()) return;
  const Tensor q64 = to_gpu(Tensor::zeros({1, 2, 2, 8}, DType::kF64));
  const Status s64 = ops::attention(q64, q64, q64).status();
  CHECK(s64.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s64.message()).find("attention: q is f64") != std::string::npos);
  const Tensor big = to_gpu(Tensor::zeros({1, 2, 2, 129}));
  const Status sbig = ops::attention(big, big, big).status();
  CHECK(sbig.code() == absl::StatusCode::kUnimplemented);
  CHECK(std::string(sbig.message()).find("head dim 129") != std::string::npos);
}

}  // TEST_SUITE

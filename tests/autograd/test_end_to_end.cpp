// Small networks built from Variables, gradchecked end to end in f64: every op's backward must
// compose with every other's through the tape.
#include <doctest/doctest.h>

#include "autograd/activation.h"
#include "autograd/attention.h"
#include "autograd/cross_entropy.h"
#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/matmul.h"
#include "autograd/norm.h"
#include "autograd/reduce.h"
#include "autograd/rope.h"
#include "autograd/shape.h"
#include "core/rng.h"

using namespace mone;
using namespace mone::autograd;

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: a two-layer MLP with a cross-entropy head") {
  Generator gen(21);
  const int64_t N = 5, d_in = 4, h = 6, classes = 3;
  Variable x(randn({N, d_in}, DType::kF64, gen), true, "x");
  Variable w1(randn({h, d_in}, DType::kF64, gen, 0.0, 0.5), true, "w1");
  Variable b1(randn({h}, DType::kF64, gen), true, "b1");
  Variable w2(randn({classes, h}, DType::kF64, gen, 0.0, 0.5), true, "w2");
  Tensor targets = value_or_die(Tensor::from_vector<int64_t>({0, 2, 1, 1, 0}, {N}));
  auto mlp = [&](const std::vector<Variable>& in) -> StatusOr<Variable> {
    MONE_ASSIGN_OR_RETURN(Variable z, linear(in[0], in[1]));  // [N, h]
    MONE_ASSIGN_OR_RETURN(z, add(z, in[2]));                   // bias broadcast over rows
    MONE_ASSIGN_OR_RETURN(z, silu(z));
    MONE_ASSIGN_OR_RETURN(Variable logits, linear(z, in[3]));  // [N, classes]
    return cross_entropy(logits, targets);
  };
  Status s = gradcheck(mlp, {x, w1, b1, w2});
  CHECK_MESSAGE(s.ok(), s.message());
}

TEST_CASE("gradcheck: a one-layer pre-norm attention block with RoPE and grouped kv heads") {
  Generator gen(22);
  const int64_t B = 2, T = 5, d = 8, H = 4, Hkv = 2, hd = d / H;
  Variable x(randn({B, T, d}, DType::kF64, gen), true, "x");
  Variable norm_w(randn({d}, DType::kF64, gen, 1.0, 0.1), true, "norm");
  Variable wq(randn({H * hd, d}, DType::kF64, gen, 0.0, 0.4), true, "wq");
  Variable wk(randn({Hkv * hd, d}, DType::kF64, gen, 0.0, 0.4), true, "wk");
  Variable wv(randn({Hkv * hd, d}, DType::kF64, gen, 0.0, 0.4), true, "wv");
  Variable wo(randn({d, H * hd}, DType::kF64, gen, 0.0, 0.4), true, "wo");
  auto block = [&](const std::vector<Variable>& in) -> StatusOr<Variable> {
    MONE_ASSIGN_OR_RETURN(Variable n, rmsnorm(in[0], in[1], 1e-6));
    MONE_ASSIGN_OR_RETURN(Variable q, linear(n, in[2]));
    MONE_ASSIGN_OR_RETURN(Variable k, linear(n, in[3]));
    MONE_ASSIGN_OR_RETURN(Variable v, linear(n, in[4]));
    MONE_ASSIGN_OR_RETURN(q, reshape(q, {B, T, H, hd}));
    MONE_ASSIGN_OR_RETURN(k, reshape(k, {B, T, Hkv, hd}));
    MONE_ASSIGN_OR_RETURN(v, reshape(v, {B, T, Hkv, hd}));
    MONE_ASSIGN_OR_RETURN(q, rope(q, 0, 10000.0));
    MONE_ASSIGN_OR_RETURN(k, rope(k, 0, 10000.0));
    MONE_ASSIGN_OR_RETURN(Variable a, attention(q, k, v));
    MONE_ASSIGN_OR_RETURN(a, reshape(a, {B, T, d}));
    MONE_ASSIGN_OR_RETURN(Variable o, linear(a, in[5]));
    MONE_ASSIGN_OR_RETURN(Variable out, add(in[0], o));  // the residual
    return mean(out);
  };
  Status s = gradcheck(block, {x, norm_w, wq, wk, wv, wo});
  CHECK_MESSAGE(s.ok(), s.message());
}

}  // TEST_SUITE

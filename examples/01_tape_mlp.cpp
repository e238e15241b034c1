// Example 1: the tape, on a two-layer MLP.
//
// What it shows: every differentiable op called through autograd appends one entry to the
// current tape; backward() walks the entries in reverse and leaves each parameter's gradient in
// .grad(). We print the tape, run backward, check one gradient against the formula worked out by
// hand, and let gradcheck compare every gradient with finite differences.
//
//   build/bin/example_01_tape_mlp
#include <cstdio>

#include "autograd/activation.h"
#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/matmul.h"
#include "autograd/reduce.h"
#include "autograd/tape.h"
#include "core/rng.h"

using namespace mone;
using autograd::Variable;

// The model: L = Σ y², y = silu(x W1ᵀ) W2ᵀ. x [4, 3], W1 [5, 3], W2 [2, 5].
StatusOr<Variable> mlp_loss(const Variable& x, const Variable& w1, const Variable& w2, Variable* h_out) {
  MONE_ASSIGN_OR_RETURN(Variable a, autograd::linear(x, w1));  // [4, 5]: one tape entry (matmul)
  MONE_ASSIGN_OR_RETURN(Variable h, autograd::silu(a));        // [4, 5]
  MONE_ASSIGN_OR_RETURN(Variable y, autograd::linear(h, w2));  // [4, 2]
  MONE_ASSIGN_OR_RETURN(Variable y2, autograd::mul(y, y));     // [4, 2]
  if (h_out) *h_out = h;
  return autograd::sum(y2);                                    // 0-d: the loss
}

int main() {
  // f64 so that the finite differences below are exact enough to compare.
  Generator gen(42);
  Variable x(randn({4, 3}, DType::kF64, gen), /*requires_grad=*/false, "x");  // data: no gradient
  Variable w1(randn({5, 3}, DType::kF64, gen), true, "w1");
  Variable w2(randn({2, 5}, DType::kF64, gen), true, "w2");

  Variable h;
  Variable loss = value_or_die(mlp_loss(x, w1, w2, &h));
  std::printf("loss = %.6f\n\nthe tape (one line per recorded op):\n%s\n", loss.value().item(),
              autograd::current_tape().to_string().c_str());

  // backward: seeds dL/dL = 1, runs each entry's backward in reverse, accumulates into leaves.
  if (Status s = autograd::backward(loss); !s.ok()) {
    std::fprintf(stderr, "backward failed: %s\n", s.ToString().c_str());
    return 1;
  }

  // By hand: L = Σ_t Σ_i y[t,i]², y[t,i] = Σ_j h[t,j] W2[i,j], so dL/dW2[i,j] = Σ_t 2 y[t,i] h[t,j].
  const Tensor hv = h.value();
  double by_hand = 0.0;
  for (int64_t t = 0; t < 4; ++t) {
    double y_t0 = 0.0;  // y[t, 0]
    for (int64_t j = 0; j < 5; ++j) y_t0 += read_as_double(hv, t * 5 + j) * read_as_double(w2.value(), j);
    by_hand += 2.0 * y_t0 * read_as_double(hv, t * 5 + 0);
  }
  const double from_tape = read_as_double(w2.grad(), 0);
  std::printf("dL/dW2[0,0]: tape %.12f, by hand %.12f\n", from_tape, by_hand);
  if (std::abs(from_tape - by_hand) > 1e-9 * (1 + std::abs(by_hand))) {
    std::fprintf(stderr, "the tape's gradient disagrees with the formula\n");
    return 1;
  }

  // gradcheck: every element of every input's gradient against central differences.
  const Status check = autograd::gradcheck(
      [&](const std::vector<Variable>& in) { return mlp_loss(x, in[0], in[1], nullptr); }, {w1, w2});
  std::printf("gradcheck of W1 and W2: %s\n", check.ok() ? "OK" : check.ToString().c_str());
  return check.ok() ? 0 : 1;
}

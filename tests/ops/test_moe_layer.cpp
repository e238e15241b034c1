// A whole MoNE layer composed from the autograd wrappers (router -> dispatch -> the expert op over
// every expert -> combine, plus the three auxiliary losses), checked end to end against finite
// differences. The composition is the one autograd/moe.h documents.
#include <doctest/doctest.h>

#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/moe.h"
#include "autograd/tape.h"
#include "tests/ops/moe_test_util.h"

using namespace mone;
using namespace mone::autograd;
using namespace mone::moe_test;

namespace {

struct LayerConfig {
  int64_t n = 6, d = 4, e = 4, k = 2, d_expert = 8, k_n = 2;
  bool norm = true;
  ops::MoneStrategy strategy = ops::MoneStrategy::kGathered;
};

// v = {x, w_router, w_gate [E, D, d], w_up [E, D, d], w_down [E, d, D]}. Returns a scalar of the
// layer output plus the weighted auxiliary losses; *margin receives the smallest distance of any
// top-k (router or neuron) or |G| from a tie or kink.
StatusOr<Variable> layer_loss(const std::vector<Variable>& v, const LayerConfig& c, double* margin) {
  MONE_ASSIGN_OR_RETURN(RouterOutput r, router(v[0], v[1], c.k, c.norm));
  *margin = topk_margin(r.probs.value(), c.k, false);
  MONE_ASSIGN_OR_RETURN(ops::DispatchPlan plan, ops::build_dispatch(r.expert_ids, c.e));
  MONE_ASSIGN_OR_RETURN(Variable x_perm, permute(v[0], plan));
  MONE_ASSIGN_OR_RETURN(MoneFfnOutput e, mone_ffn(x_perm, plan.offsets, v[2], v[3], v[4],
                                                  {c.k_n, ops::Activation::kSilu, c.strategy, ops::TopkBackward::kHard}));
  *margin = std::min({*margin, topk_margin(e.g.value(), c.k_n, true), min_abs(e.g.value())});
  MONE_ASSIGN_OR_RETURN(Variable out, combine(e.y, r.weights, plan));
  MONE_ASSIGN_OR_RETURN(Variable l_out, z_loss(out));  // any smooth scalar of the output
  MONE_ASSIGN_OR_RETURN(Variable l_aux, load_balance_loss(r.probs, plan.counts, c.k));
  MONE_ASSIGN_OR_RETURN(Variable l_z, z_loss(r.logits));
  MONE_ASSIGN_OR_RETURN(Variable l_ng, neuron_balance_loss(e.g, e.idx, plan.offsets, ops::NeuronLossForm::kNormalized));
  MONE_ASSIGN_OR_RETURN(Variable a, scale(l_aux, 0.5));
  MONE_ASSIGN_OR_RETURN(Variable z, scale(l_z, 0.1));
  MONE_ASSIGN_OR_RETURN(Variable ng, scale(l_ng, 0.5));
  MONE_ASSIGN_OR_RETURN(Variable s1, add(l_out, a));
  MONE_ASSIGN_OR_RETURN(Variable s2, add(s1, z));
  return add(s2, ng);
}

std::vector<Variable> draw_layer(uint64_t seed, const LayerConfig& c) {
  Generator gen(seed);
  const double s = 1.0 / std::sqrt(static_cast<double>(c.d));
  return {param(randn({c.n, c.d}, DType::kF64, gen), "x"), param(randn({c.e, c.d}, DType::kF64, gen), "w_router"),
          param(randn({c.e, c.d_expert, c.d}, DType::kF64, gen, 0.0, 3 * s), "w_gate"),
          param(randn({c.e, c.d_expert, c.d}, DType::kF64, gen, 0.0, s), "w_up"),
          param(randn({c.e, c.d, c.d_expert}, DType::kF64, gen, 0.0, s), "w_down")};
}

}  // namespace

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: a whole MoNE layer with its auxiliary losses, both strategies") {
  for (ops::MoneStrategy strategy : {ops::MoneStrategy::kMaskedDense, ops::MoneStrategy::kGathered}) {
    LayerConfig c;
    c.strategy = strategy;
    // Redraw until no router or neuron selection sits within reach of the finite differences.
    std::vector<Variable> v;
    for (uint64_t seed = 1;; ++seed) {
      v = draw_layer(seed, c);
      double margin = 0;
      NoGradGuard no_grad;
      REQUIRE(layer_loss(v, c, &margin).ok());
      if (margin > 1e-4) break;
    }
    double unused = 0;
    const Status s = gradcheck([&](const std::vector<Variable>& in) { return layer_loss(in, c, &unused); }, v);
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

}  // TEST_SUITE("gradcheck")

// A whole MoNE layer composed from the autograd wrappers (router -> dispatch -> per-expert
// mone_ffn -> combine, plus the three auxiliary losses), checked end to end against finite
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

// v = {x, w_router, then w_gate, w_up, w_down per expert}. Returns a scalar of the layer output
// plus the weighted auxiliary losses; *margin receives the smallest distance of any top-k
// (router or neuron) or |G| from a tie or kink.
StatusOr<Variable> layer_loss(const std::vector<Variable>& v, const LayerConfig& c, double* margin) {
  MONE_ASSIGN_OR_RETURN(RouterOutput r, router(v[0], v[1], c.k, c.norm));
  *margin = topk_margin(r.probs.value(), c.k, false);
  MONE_ASSIGN_OR_RETURN(ops::DispatchPlan plan, ops::build_dispatch(r.expert_ids, c.e));
  MONE_ASSIGN_OR_RETURN(Variable x_perm, permute(v[0], plan));
  MONE_ASSIGN_OR_RETURN(std::vector<Variable> parts, split_rows(x_perm, plan.offsets));
  std::vector<Variable> ys;
  Variable neuron_sum;
  int active = 0;
  for (int64_t e = 0; e < c.e; ++e) {
    if (parts[e].shape()[0] == 0) continue;  // an expert no token chose: no output rows, no NG term
    MONE_ASSIGN_OR_RETURN(MoneFfnOutput out, mone_ffn(parts[e], v[2 + 3 * e], v[3 + 3 * e], v[4 + 3 * e], c.k_n,
                                                      ops::Activation::kSilu, c.strategy, ops::TopkBackward::kHard));
    *margin = std::min({*margin, topk_margin(out.g.value(), c.k_n, true), min_abs(out.g.value())});
    ys.push_back(out.y);
    MONE_ASSIGN_OR_RETURN(Variable nl, neuron_balance_loss(out.g, out.idx, ops::NeuronLossForm::kNormalized));
    if (active++ == 0) {
      neuron_sum = nl;
    } else {
      MONE_ASSIGN_OR_RETURN(neuron_sum, add(neuron_sum, nl));
    }
  }
  MONE_ASSIGN_OR_RETURN(Variable y_perm, concat_rows(ys));
  MONE_ASSIGN_OR_RETURN(Variable out, combine(y_perm, r.weights, plan));
  MONE_ASSIGN_OR_RETURN(Variable l_out, z_loss(out));  // any smooth scalar of the output
  MONE_ASSIGN_OR_RETURN(Variable l_aux, load_balance_loss(r.probs, plan.counts, c.k));
  MONE_ASSIGN_OR_RETURN(Variable l_z, z_loss(r.logits));
  MONE_ASSIGN_OR_RETURN(Variable l_ng, scale(neuron_sum, 1.0 / active));
  MONE_ASSIGN_OR_RETURN(Variable a, scale(l_aux, 0.5));
  MONE_ASSIGN_OR_RETURN(Variable z, scale(l_z, 0.1));
  MONE_ASSIGN_OR_RETURN(Variable ng, scale(l_ng, 0.5));
  MONE_ASSIGN_OR_RETURN(Variable s1, add(l_out, a));
  MONE_ASSIGN_OR_RETURN(Variable s2, add(s1, z));
  return add(s2, ng);
}

std::vector<Variable> draw_layer(uint64_t seed, const LayerConfig& c) {
  Generator gen(seed);
  std::vector<Variable> v{param(randn({c.n, c.d}, DType::kF64, gen), "x"),
                          param(randn({c.e, c.d}, DType::kF64, gen), "w_router")};
  for (int64_t e = 0; e < c.e; ++e) {
    const ExpertInputs w = draw_expert(gen, 0, c.d, c.d_expert, DType::kF64);
    v.push_back(param(w.w_gate, "w_gate"));
    v.push_back(param(w.w_up, "w_up"));
    v.push_back(param(w.w_down, "w_down"));
  }
  return v;
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

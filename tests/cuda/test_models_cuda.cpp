// Whole tiny models on the GPU against the CPU: a dense, a MoE and two MoNE transformers (gathered
// HARD, masked-dense STRAIGHT_THROUGH; a shared expert; every auxiliary loss on), forward and
// backward in f32. The model is built on the CPU, its parameters copied to the GPU in place
// (Variable::set_value), and the loss, each loss term and every parameter's gradient must match
// the CPU's to 1e-4. The routing and the neuron selections of random tiny models are far from
// ties (a near-tie would show as a gradient off by far more than 1e-4).
// Shape letters: B batch, T sequence.
#include <doctest/doctest.h>

#include <vector>

#include "autograd/tape.h"
#include "models/transformer.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

namespace {

proto::ModelSpec spec_for(proto::ModelSpec::FfnType type, proto::ModelSpec::MoneStrategy strategy,
                          proto::ModelSpec::NeuronTopkBackward estimator) {
  proto::ModelSpec s = value_or_die(models::parse_model_spec(R"pb(
    name: "cuda-tiny" vocab_size: 29 hidden_size: 16 num_hidden_layers: 2
    num_attention_heads: 4 num_key_value_heads: 2 max_position_embeddings: 16
    num_experts: 5 num_experts_per_tok: 2 moe_intermediate_size: 24 neuron_topk: 6
    num_shared_experts: 1 shared_expert_intermediate_size: 8 intermediate_size: 40 norm_topk_prob: true
    initializer_range: 0.3 router_aux_loss_coef: 0.3 router_z_loss_coef: 0.2 neuron_aux_loss_coef: 0.4
  )pb", "<cuda-tiny>"));
  s.set_ffn_type(type);
  s.set_mone_strategy(strategy);
  s.set_neuron_topk_backward(estimator);
  return s;
}

struct Result {
  std::vector<Tensor> values;  // loss, ce, load balance, z, neuron (the defined ones)
  std::vector<Tensor> grads;   // one per parameter, in parameters() order
};

Result forward_backward(const models::Transformer& model, const Tensor& ids, const Tensor& targets) {
  const models::ModelOutput out = value_or_die(model.forward(ids, targets));
  Result r;
  for (const autograd::Variable& v : {out.loss, out.ce, out.load_balance, out.z_loss, out.neuron_loss}) {
    if (v.defined()) r.values.push_back(v.value());
  }
  MONE_CHECK_OK(autograd::backward(out.loss));
  for (const auto& p : model.parameters()) {
    REQUIRE_MESSAGE(p.param.has_grad(), p.name);
    r.grads.push_back(p.param.grad());
  }
  return r;
}

}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: tiny dense, MoE and MoNE models: the loss and every gradient on the GPU match the CPU (f32)") {
  if (skip_without_gpu()) return;
  using S = proto::ModelSpec;
  const std::vector<proto::ModelSpec> specs = {
      spec_for(S::DENSE, S::GATHERED, S::HARD), spec_for(S::MOE, S::GATHERED, S::HARD),
      spec_for(S::MONE, S::GATHERED, S::HARD), spec_for(S::MONE, S::MASKED_DENSE, S::STRAIGHT_THROUGH)};
  std::vector<int64_t> id_values, target_values;
  for (int64_t i = 0; i < 2 * 7; ++i) {
    id_values.push_back((i * 11 + 3) % 29);
    target_values.push_back((i * 7 + 5) % 29);
  }
  const Tensor ids = value_or_die(Tensor::from_vector(id_values, {2, 7}));
  const Tensor targets = value_or_die(Tensor::from_vector(target_values, {2, 7}));
  for (const proto::ModelSpec& spec : specs) {
    CAPTURE(S::FfnType_Name(spec.ffn_type()));
    CAPTURE(S::MoneStrategy_Name(spec.mone_strategy()));
    CAPTURE(S::NeuronTopkBackward_Name(spec.neuron_topk_backward()));
    auto model = value_or_die(models::Transformer::create(spec, 17));
    const Result want = forward_backward(*model, ids, targets);
    for (const auto& p : model->parameters()) {  // a Variable is a handle: the model sees these
      autograd::Variable v = p.param;
      v.zero_grad();
      v.set_value(to_gpu(v.value()));
    }
    const Result got = forward_backward(*model, to_gpu(ids), to_gpu(targets));
    REQUIRE(got.values.size() == want.values.size());
    for (size_t i = 0; i < got.values.size(); ++i) check_close("model forward", got.values[i], want.values[i], 1e-4);
    for (size_t i = 0; i < got.grads.size(); ++i) {
      INFO(model->parameters()[i].name);
      check_close("model backward", got.grads[i], want.grads[i], 1e-4);
    }
    // Two GPU runs, the same bits.
    for (const auto& p : model->parameters()) autograd::Variable(p.param).zero_grad();
    const Result again = forward_backward(*model, to_gpu(ids), to_gpu(targets));
    for (size_t i = 0; i < got.grads.size(); ++i) CHECK(bitwise_equal(again.grads[i], got.grads[i]));
    CHECK(bitwise_equal(again.values[0], got.values[0]));
  }
}

}  // TEST_SUITE("cuda")

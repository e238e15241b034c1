// mone against an independent PyTorch implementation of MONE.md (tests/reference/make_reference.py):
// the same weights and tokens must give the same loss terms and the same gradient for every
// parameter. Tolerances per tensor, as llm.c's test_gpt2 does: relative to the tensor's largest
// reference value.
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>

#include "autograd/tape.h"
#include "models/transformer.h"
#include "train/checkpoint/safetensors.h"

using namespace mone;
using namespace mone::models;

namespace {

proto::ModelSpec reference_spec(bool mone_layer, proto::ModelSpec::NeuronSelector selector = proto::ModelSpec::ABS_GATE) {
  // Mirrors spec_for() in tests/reference/make_reference.py.
  proto::ModelSpec s = value_or_die(parse_model_spec(R"pb(
    name: "reference" vocab_size: 61 hidden_size: 16 num_hidden_layers: 2 num_attention_heads: 4
    num_key_value_heads: 2 rms_norm_eps: 1e-6 rope_theta: 10000 max_position_embeddings: 16
    num_experts: 4 num_experts_per_tok: 2 moe_intermediate_size: 12 num_shared_experts: 1
    shared_expert_intermediate_size: 12 hidden_act: SILU
    router_aux_loss_coef: 0.01 router_z_loss_coef: 0.001 neuron_aux_loss_coef: 0.01
  )pb", "<reference>"));
  s.set_ffn_type(mone_layer ? proto::ModelSpec::MONE : proto::ModelSpec::MOE);
  if (mone_layer) s.set_neuron_topk(3);
  s.set_neuron_selector(selector);
  return s;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

void check_against_reference(const std::string& file, bool mone_layer, DType dtype, ops::MoneStrategy strategy,
                             double rtol, proto::ModelSpec::NeuronSelector selector = proto::ModelSpec::ABS_GATE) {
  auto ref = value_or_die(train::read_safetensors(std::string(MONE_SOURCE_DIR) + "/tests/data/" + file));
  proto::ModelSpec spec = reference_spec(mone_layer, selector);
  spec.set_mone_strategy(strategy == ops::MoneStrategy::kGathered ? proto::ModelSpec::GATHERED
                         : strategy == ops::MoneStrategy::kAuto   ? proto::ModelSpec::AUTO
                                                                  : proto::ModelSpec::MASKED_DENSE);
  auto model = value_or_die(Transformer::create(spec, 0, dtype));
  // The reference holds per-expert names; the model stacks its experts and loads them as views.
  std::map<std::string, Tensor> weights;
  for (const auto& [name, t] : checkpoint_tensors(model->parameters())) weights[name] = ref.tensors.at(name);
  REQUIRE(load_parameters(model->parameters(), weights, file).ok());

  autograd::current_tape().clear();
  auto out = value_or_die(model->forward(ref.tensors.at("input_ids"), ref.tensors.at("targets")));
  REQUIRE(autograd::backward(out.loss).ok());

  auto check_loss = [&](const char* name, const autograd::Variable& v) {
    const double expected = ref.tensors.at(std::string("loss.") + name).item();
    const double got = v.defined() ? v.value().item() : 0.0;
    CHECK_MESSAGE(got == doctest::Approx(expected).epsilon(rtol), file, " loss.", name);
  };
  check_loss("total", out.loss);
  check_loss("ce", out.ce);
  check_loss("load_balance", out.load_balance);
  check_loss("z", out.z_loss);
  check_loss("neuron", out.neuron_loss);

  std::vector<Tensor> grads;
  for (const auto& p : model->parameters()) {
    grads.push_back(p.param.has_grad() ? p.param.grad() : Tensor::zeros(p.param.shape(), dtype));
  }
  int64_t checked = 0;
  for (const auto& named : checkpoint_tensors(model->parameters(), grads)) {
    const std::string& name = named.first;  // not a structured binding: CHECK_MESSAGE is a lambda (clang 14)
    const Tensor& got = named.second;
    const Tensor& expected = ref.tensors.at("grad." + name);
    const double scale = std::max(max_abs(expected), 1e-3);
    CHECK_MESSAGE(max_abs_diff(got, expected) <= rtol * scale, file, " grad of ", name, ": max diff ",
                  max_abs_diff(got, expected), " vs scale ", scale);
    ++checked;
  }
  // Every per-expert tensor of the reference was compared (4 experts, 2 layers).
  int64_t expected_grads = 0;
  for (const auto& [name, t] : ref.tensors) expected_grads += name.rfind("grad.", 0) == 0;
  CHECK(checked == expected_grads);
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("tiny MoE matches the PyTorch reference: losses and every gradient (f64 and f32)") {
  check_against_reference("tiny_moe_ref.safetensors", false, DType::kF64, ops::MoneStrategy::kGathered, 1e-5);
  check_against_reference("tiny_moe_ref.safetensors", false, DType::kF32, ops::MoneStrategy::kGathered, 2e-4);
}

TEST_CASE("tiny MoNE matches the PyTorch reference with every strategy, AUTO too (f64 and f32)") {
  for (auto strategy : {ops::MoneStrategy::kGathered, ops::MoneStrategy::kMaskedDense, ops::MoneStrategy::kAuto}) {
    check_against_reference("tiny_mone_ref.safetensors", true, DType::kF64, strategy, 1e-5);
    check_against_reference("tiny_mone_ref.safetensors", true, DType::kF32, strategy, 2e-4);
  }
}

TEST_CASE("tiny MoNE with every other neuron selector matches the PyTorch reference (f64 and f32)") {
  for (auto selector : {proto::ModelSpec::SIGNED_GATE, proto::ModelSpec::ABS_GATE_TIMES_UP,
                        proto::ModelSpec::ABS_GATE_THRESHOLD}) {
    std::string name = proto::ModelSpec::NeuronSelector_Name(selector);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string file = "tiny_mone_" + name + "_ref.safetensors";
    CAPTURE(file);
    for (auto strategy : {ops::MoneStrategy::kGathered, ops::MoneStrategy::kMaskedDense}) {
      check_against_reference(file, true, DType::kF64, strategy, 1e-5, selector);
      check_against_reference(file, true, DType::kF32, strategy, 2e-4, selector);
    }
  }
}

}  // TEST_SUITE

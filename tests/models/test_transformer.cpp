#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "models/spec_stats.h"
#include "models/transformer.h"

using namespace mone;
using namespace mone::models;

namespace {

proto::ModelSpec tiny_spec(proto::ModelSpec::FfnType type) {
  proto::ModelSpec s = value_or_die(parse_model_spec(R"pb(
    name: "gradcheck-tiny" vocab_size: 13 hidden_size: 8 num_hidden_layers: 2
    num_attention_heads: 2 num_key_value_heads: 1 max_position_embeddings: 8
    num_experts: 4 num_experts_per_tok: 2 moe_intermediate_size: 8 neuron_topk: 2
    num_shared_experts: 1 shared_expert_intermediate_size: 4 intermediate_size: 12
    initializer_range: 0.5 router_aux_loss_coef: 0.3 router_z_loss_coef: 0.2 neuron_aux_loss_coef: 0.4
  )pb", "<tiny>"));
  s.set_ffn_type(type);
  return s;
}

// Every variant of the imported architectures at once: q/k/v and o biases, q/k norms, a clamp
// that bites, a gated shared expert, and a dense first layer before a MoE layer.
proto::ModelSpec variants_spec(proto::ModelSpec::FfnType type) {
  proto::ModelSpec s = tiny_spec(type);
  s.set_attention_qkv_bias(true);
  s.set_attention_output_bias(true);
  s.set_qk_norm(true);
  s.set_clip_qkv(0.8);
  s.set_shared_expert_gate(true);
  s.add_mlp_only_layers(0);
  return s;
}

Tensor ids_tensor(std::vector<int64_t> v, int64_t B, int64_t T) {
  return value_or_die(Tensor::from_vector<int64_t>(v, {B, T}));
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("the built model has exactly the parameters the spec statistics count") {
  for (const char* file : {"tiny_mone", "tiny_moe", "tiny_dense"}) {
    auto spec = value_or_die(load_model_spec(std::string(MONE_SOURCE_DIR) + "/configs/models/" + file + ".textproto"));
    auto model = value_or_die(Transformer::create(spec, 1));
    CHECK_MESSAGE(count_parameters(model->parameters()) == count_params(spec).total(), file);
  }
  auto tied = tiny_spec(proto::ModelSpec::MONE);
  tied.set_tie_word_embeddings(true);
  auto model = value_or_die(Transformer::create(tied, 1));
  CHECK(count_parameters(model->parameters()) == count_params(tied).total());
}

TEST_CASE("the architecture variants add their parameters under Hugging Face names, counted by the statistics") {
  const auto spec = variants_spec(proto::ModelSpec::MONE);
  auto model = value_or_die(Transformer::create(spec, 1));
  CHECK(count_parameters(model->parameters()) == count_params(spec).total());
  std::map<std::string, Tensor> by_name;
  for (const auto& [name, t] : checkpoint_tensors(model->parameters())) by_name[name] = t;
  // Layer 0 is dense (mlp_only_layers), layer 1 routes; kv width 1 head x 4 = 4.
  CHECK(by_name.at("model.layers.0.mlp.gate_proj.weight").shape() == Shape{12, 8});
  CHECK(by_name.count("model.layers.0.mlp.gate.weight") == 0);
  CHECK(by_name.at("model.layers.1.mlp.gate.weight").shape() == Shape{4, 8});
  CHECK(by_name.at("model.layers.1.mlp.shared_expert_gate.weight").shape() == Shape{1, 8});
  CHECK(by_name.at("model.layers.0.self_attn.q_proj.bias").to_vector<float>() == std::vector<float>(8, 0.0f));
  CHECK(by_name.at("model.layers.0.self_attn.k_proj.bias").shape() == Shape{4});
  CHECK(by_name.at("model.layers.0.self_attn.o_proj.bias").shape() == Shape{8});
  CHECK(by_name.at("model.layers.1.self_attn.q_norm.weight").to_vector<float>() == std::vector<float>(8, 1.0f));
  CHECK(by_name.at("model.layers.1.self_attn.k_norm.weight").shape() == Shape{4});
  // decoder_sparse_step 2 over 2 layers: only layer 1 routes.
  auto stepped = tiny_spec(proto::ModelSpec::MOE);
  stepped.set_decoder_sparse_step(2);
  CHECK_FALSE(is_moe_layer(stepped, 0));
  CHECK(is_moe_layer(stepped, 1));
  auto stepped_model = value_or_die(Transformer::create(stepped, 1));
  CHECK(count_parameters(stepped_model->parameters()) == count_params(stepped).total());
}

TEST_CASE("variants switched off draw the same weights; switched on they change the output") {
  // The new parameters are constants (biases 0, norms 1) or drawn last in their layer (the shared
  // expert gate), so the other weights of a spec are the same with and without them.
  auto plain = value_or_die(Transformer::create(tiny_spec(proto::ModelSpec::MOE), 4));
  auto biased_spec = tiny_spec(proto::ModelSpec::MOE);
  biased_spec.set_attention_qkv_bias(true);
  biased_spec.set_qk_norm(true);
  auto biased = value_or_die(Transformer::create(biased_spec, 4));
  std::map<std::string, Tensor> a, b;
  for (const auto& [name, t] : checkpoint_tensors(plain->parameters())) a[name] = t;
  for (const auto& [name, t] : checkpoint_tensors(biased->parameters())) b[name] = t;
  for (const auto& entry : a) {  // not a structured binding: CHECK_MESSAGE is a lambda (clang 14)
    CHECK_MESSAGE(b.at(entry.first).to_vector<float>() == entry.second.to_vector<float>(), entry.first);
  }
  Tensor ids = ids_tensor({1, 5, 7, 2, 12, 0, 3, 3}, 2, 4);
  autograd::NoGradGuard no_grad;
  const auto la = value_or_die(plain->forward(ids, Tensor())).logits.value().to_vector<float>();
  const auto lb = value_or_die(biased->forward(ids, Tensor())).logits.value().to_vector<float>();
  CHECK(la != lb);  // the q/k norms change the attention
  // A clamp wider than any projection changes nothing; a tight one does.
  auto loose_spec = tiny_spec(proto::ModelSpec::MOE);
  loose_spec.set_clip_qkv(1e6);
  auto tight_spec = loose_spec;
  tight_spec.set_clip_qkv(1e-3);
  CHECK(value_or_die(value_or_die(Transformer::create(loose_spec, 4))->forward(ids, Tensor())).logits.value()
            .to_vector<float>() == la);
  CHECK(value_or_die(value_or_die(Transformer::create(tight_spec, 4))->forward(ids, Tensor())).logits.value()
            .to_vector<float>() != la);
}

TEST_CASE("a MoE layer exposes its gate activations G = act(W_gate x), grouped by expert") {
  auto spec = tiny_spec(proto::ModelSpec::MONE);
  auto model = value_or_die(Transformer::create(spec, 6, DType::kF64));
  Tensor ids = ids_tensor({1, 5, 7, 2, 12, 0, 3, 3}, 2, 4);
  autograd::NoGradGuard no_grad;
  auto out = value_or_die(model->forward(ids, Tensor()));
  for (const FfnAux& layer : out.layers) {
    REQUIRE(layer.gate_activations.defined());
    CHECK(layer.gate_activations.shape() == Shape{8 * 2, 8});  // N·K rows, D neurons
    const auto offsets = layer.expert_offsets.to_vector<int64_t>();
    const auto counts = layer.tokens_per_expert.to_vector<int64_t>();
    REQUIRE(offsets.size() == 5);
    for (size_t e = 0; e < counts.size(); ++e) CHECK(offsets[e + 1] - offsets[e] == counts[e]);
    CHECK(layer.row_pairs.numel() == 16);
  }
  // They are the G the layer selected its neurons by: the K_N = 2 largest |G| of each row,
  // counted per expert, are the layer's neuron counts.
  for (const FfnAux& layer : out.layers) {
    const auto G = layer.gate_activations.value().to_vector<double>();
    const auto offsets = layer.expert_offsets.to_vector<int64_t>();
    std::vector<int64_t> counts(4 * 8, 0);
    for (int64_t e = 0; e < 4; ++e) {
      for (int64_t r = offsets[e]; r < offsets[e + 1]; ++r) {
        std::vector<int64_t> order = {0, 1, 2, 3, 4, 5, 6, 7};
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t i, int64_t j) { return std::abs(G[r * 8 + i]) > std::abs(G[r * 8 + j]); });
        ++counts[e * 8 + order[0]];
        ++counts[e * 8 + order[1]];
      }
    }
    CHECK(counts == layer.neuron_counts.to_vector<int64_t>());
    for (double g : G) CHECK(g >= -0.27847);  // silu >= its minimum -0.278465
  }
}

TEST_CASE("parameters carry Hugging Face names and the init rule") {
  auto spec = tiny_spec(proto::ModelSpec::MONE);
  spec.set_initializer_range(0.02);
  spec.set_hidden_size(64);
  spec.set_moe_intermediate_size(64);
  auto model = value_or_die(Transformer::create(spec, 7));
  std::map<std::string, Tensor> by_name;  // as a checkpoint names them: experts one by one
  for (const auto& [name, t] : checkpoint_tensors(model->parameters())) by_name[name] = t;
  for (const char* n : {"model.embed_tokens.weight", "model.layers.1.self_attn.k_proj.weight",
                        "model.layers.0.mlp.gate.weight", "model.layers.0.mlp.experts.3.down_proj.weight",
                        "model.layers.1.mlp.shared_expert.up_proj.weight", "model.norm.weight", "lm_head.weight"}) {
    CHECK_MESSAGE(by_name.count(n) == 1, n);
  }
  auto stddev = [](const Tensor& t) {
    double s = 0;
    for (double v : t.to_vector<double>()) s += v * v;
    return std::sqrt(s / t.numel());
  };
  // std 0.02 for inputs, 0.02 / sqrt(2 * layers) = 0.01 for output projections; norms are 1.
  CHECK(stddev(by_name["model.layers.0.mlp.experts.0.gate_proj.weight"]) == doctest::Approx(0.02).epsilon(0.1));
  CHECK(stddev(by_name["model.layers.0.mlp.experts.0.down_proj.weight"]) == doctest::Approx(0.01).epsilon(0.1));
  CHECK(stddev(by_name["model.layers.1.self_attn.o_proj.weight"]) == doctest::Approx(0.01).epsilon(0.1));
  CHECK(by_name["model.norm.weight"].to_vector<float>() == std::vector<float>(64, 1.0f));
  // Same seed, same weights; another seed, other weights.
  auto again = value_or_die(Transformer::create(spec, 7));
  auto other = value_or_die(Transformer::create(spec, 8));
  CHECK(again->parameters()[3].param.value().to_vector<float>() == model->parameters()[3].param.value().to_vector<float>());
  CHECK(other->parameters()[3].param.value().to_vector<float>() != model->parameters()[3].param.value().to_vector<float>());
}

TEST_CASE("MONE with K_N = D computes exactly what MOE computes") {
  auto moe = tiny_spec(proto::ModelSpec::MOE);
  auto mone_full = tiny_spec(proto::ModelSpec::MONE);
  mone_full.set_neuron_topk(mone_full.moe_intermediate_size());
  auto a = value_or_die(Transformer::create(moe, 3, DType::kF64));
  auto b = value_or_die(Transformer::create(mone_full, 3, DType::kF64));
  Tensor ids = ids_tensor({1, 5, 7, 2, 12, 0, 3, 3}, 2, 4);
  Tensor tg = ids_tensor({5, 7, 2, 12, 0, 3, 3, 9}, 2, 4);
  autograd::NoGradGuard no_grad;
  auto oa = value_or_die(a->forward(ids, tg));
  auto ob = value_or_die(b->forward(ids, tg));
  CHECK(oa.loss.value().item() == ob.loss.value().item());
  CHECK_FALSE(ob.neuron_loss.defined());  // NG-LBL exists only for K_N < D
}

TEST_CASE("forward reports losses and per-layer load statistics") {
  auto spec = tiny_spec(proto::ModelSpec::MONE);
  auto model = value_or_die(Transformer::create(spec, 5));
  Tensor ids = ids_tensor({1, 5, 7, 2, 12, 0, 3, 3}, 2, 4);
  autograd::NoGradGuard no_grad;
  auto out = value_or_die(model->forward(ids, ids));
  REQUIRE(out.layers.size() == 2);
  for (const auto& layer : out.layers) {
    int64_t routed = 0;
    for (int64_t c : layer.tokens_per_expert.to_vector<int64_t>()) routed += c;
    CHECK(routed == 8 * 2);  // N tokens x K experts
    int64_t selected = 0;
    for (int64_t c : layer.neuron_counts.to_vector<int64_t>()) selected += c;
    CHECK(selected == 8 * 2 * 2);  // every routed row keeps K_N = 2 neurons
  }
  const double total = out.ce.value().item() + 0.3 * out.load_balance.value().item() +
                       0.2 * out.z_loss.value().item() + 0.4 * out.neuron_loss.value().item();
  CHECK(out.loss.value().item() == doctest::Approx(total).epsilon(1e-6));
  // Without targets: logits [N, V].
  auto logits = value_or_die(model->forward(ids, Tensor()));
  CHECK(logits.logits.shape() == Shape{8, 13});
}

TEST_CASE("bad token ids and lengths are errors naming the problem") {
  auto model = value_or_die(Transformer::create(tiny_spec(proto::ModelSpec::MONE), 5));
  autograd::NoGradGuard no_grad;
  auto r = model->forward(ids_tensor({1, 2, 13, 4}, 1, 4), Tensor());
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("13") != std::string::npos);
  auto long_seq = model->forward(Tensor::zeros({1, 9}, DType::kI64), Tensor());
  REQUIRE_FALSE(long_seq.ok());
  CHECK(std::string(long_seq.status().message()).find("max_position_embeddings") != std::string::npos);
  auto bad_targets = model->forward(ids_tensor({1, 2, 3, 4}, 1, 4), ids_tensor({1, 2, 3, 40}, 1, 4));
  REQUIRE_FALSE(bad_targets.ok());
  CHECK(std::string(bad_targets.status().message()).find("40") != std::string::npos);
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

// The whole two-layer MoNE transformer (attention with grouped kv heads, router, dispatch, MoNE
// experts, shared expert, all auxiliary losses) against central differences, every parameter.
void gradcheck_model(proto::ModelSpec spec) {
  auto model = value_or_die(Transformer::create(spec, 11, DType::kF64));
  Tensor ids = ids_tensor({1, 5, 7, 2, 12, 0, 3, 8}, 2, 4);
  Tensor tg = ids_tensor({5, 7, 2, 12, 0, 3, 8, 9}, 2, 4);
  std::vector<autograd::Variable> params;
  for (const auto& p : model->parameters()) params.push_back(p.param);
  // gradcheck hands fn fresh variables for its finite differences: copy their values into the model.
  auto with_values = [&](const std::vector<autograd::Variable>& in) -> StatusOr<autograd::Variable> {
    for (size_t i = 0; i < in.size(); ++i) {
      if (!in[i].is_same(params[i])) params[i].set_value(in[i].value());
    }
    MONE_ASSIGN_OR_RETURN(ModelOutput out, model->forward(ids, tg));
    return out.loss;
  };
  autograd::GradcheckOptions opt;
  opt.atol = 1e-6;
  opt.rtol = 1e-4;
  Status s = autograd::gradcheck(with_values, params, opt);
  CHECK_MESSAGE(s.ok(), s.message());
}

TEST_CASE("gradcheck: a two-layer tiny MoNE transformer end to end (HARD and gathered)") {
  gradcheck_model(tiny_spec(proto::ModelSpec::MONE));
}

// (STRAIGHT_THROUGH is not the derivative of the sparse forward, so it has no finite-difference
// check at model level; tests/ops/test_mone_ffn.cpp checks it against its own definition.)
TEST_CASE("gradcheck: the tiny MoNE transformer with masked-dense experts and sigmoid gates") {
  auto spec = tiny_spec(proto::ModelSpec::MONE);
  spec.set_mone_strategy(proto::ModelSpec::MASKED_DENSE);
  spec.set_hidden_act(proto::ModelSpec::SIGMOID);
  spec.set_norm_topk_prob(true);
  gradcheck_model(spec);
}

TEST_CASE("gradcheck: every architecture variant at once (biases, q/k norms, clamp, shared gate, a dense layer)") {
  gradcheck_model(variants_spec(proto::ModelSpec::MONE));
  gradcheck_model(variants_spec(proto::ModelSpec::MOE));
}

TEST_CASE("gradcheck: the dense tiny transformer with tied embeddings") {
  auto spec = tiny_spec(proto::ModelSpec::DENSE);
  spec.set_tie_word_embeddings(true);
  gradcheck_model(spec);
}

}  // TEST_SUITE("gradcheck")

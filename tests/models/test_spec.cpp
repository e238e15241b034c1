// ModelSpec loading, validation (every error path), and the parameter / FLOP / memory arithmetic.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "models/spec.h"
#include "models/spec_stats.h"
#include "tests/text_checks.h"

using namespace mone;
using namespace mone::models;
using proto::ModelSpec;

namespace {

std::string config_path(const std::string& name) {
  return std::string(MONE_SOURCE_DIR) + "/configs/models/" + name + ".textproto";
}

ModelSpec load_config(const std::string& name) {
  return value_or_die(load_model_spec(config_path(name)));
}

using mone_testing::contains;

// MONE.md's total, generalised to kv heads, shared width and tied embeddings.
int64_t formula_total(const ModelSpec& s) {
  const int64_t V = s.vocab_size(), d = s.hidden_size(), L = s.num_hidden_layers();
  const int64_t hd = d / s.num_attention_heads(), E = s.num_experts(),
                D = s.moe_intermediate_size();
  const int64_t S = s.num_shared_experts();
  return (s.tie_word_embeddings() ? 1 : 2) * V * d +
         L * (2 * d * d + 2 * d * num_kv_heads(s) * hd + E * 3 * d * D +
              S * 3 * d * shared_expert_width(s) + E * d + 2 * d) +
         d;
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("every config in configs/models parses and validates") {
    int count = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(MONE_SOURCE_DIR) + "/configs/models")) {
      if (entry.path().extension() != ".textproto") continue;
      auto spec = load_model_spec(entry.path().string());
      INFO(entry.path().string());
      CHECK_MESSAGE(spec.ok(), spec.status().ToString());
      ++count;
    }
    CHECK(count >= 7);
  }

  TEST_CASE("paper-scale totals match MONE.md's table exactly") {
    const ModelSpec m925 = load_config("mone_925m");
    const ParamBreakdown p = count_params(m925);
    CHECK(p.total() == 926073856);
    CHECK(p.total() == formula_total(m925));
    // MONE.md's own form: 2·V·d + L·(4d² + (E+1)·3·d·D + E·d + 2d) + d.
    CHECK(p.total() == 2 * 50304 * 1024 +
                           24 * (4 * 1024 * 1024 + 17 * 3 * 1024 * 576 + 16 * 1024 + 2 * 1024) +
                           1024);
    CHECK(format_param_count(p.total()) == "926.07M");

    const ModelSpec m281 = load_config("mone_2p81b");
    CHECK(count_params(m281).total() == 2815117312);
    CHECK(count_params(m281).total() == formula_total(m281));
    CHECK(format_param_count(count_params(m281).total()) == "2815.1M");

    // The MoE baselines have the same parameters; only what a token touches differs.
    CHECK(count_params(load_config("moe_925m")).total() == 926073856);
    CHECK(count_params(load_config("moe_2p81b")).total() == 2815117312);
    CHECK(effective_neuron_topk(m925) == 576 / 4);
    CHECK(effective_neuron_topk(m281) == 1088 / 4);
  }

  TEST_CASE("tiny specs are a few hundred thousand to a few million parameters") {
    for (const char* name : {"tiny_mone", "tiny_moe", "tiny_dense"}) {
      const ModelSpec s = load_config(name);
      const int64_t total = count_params(s).total();
      INFO(name << " total " << total);
      CHECK(total >= 200000);
      CHECK(total <= 5000000);
    }
    // The dense baseline activates about what the MoE does (the MoE's router is the difference).
    const int64_t dense = count_activated_params(load_config("tiny_dense"));
    const int64_t moe = count_activated_params(load_config("tiny_moe"));
    CHECK(moe - dense == 2 * 8 * 128);
  }

  TEST_CASE("activated parameters follow MONE.md and MoNE activates fewer than MoE") {
    const ModelSpec mone = load_config("mone_925m");
    const ModelSpec moe = load_config("moe_925m");
    const int64_t d = 1024, D = 576, KN = 144, L = 24, K = 2, E = 16;
    const int64_t total = 926073856;
    const int64_t experts_all = L * (E + 1) * 3 * d * D;  // routed + shared
    // all non-expert weights + the shared expert + K·(d·D + 2·d·K_N)
    const int64_t mone_expected =
        (total - experts_all) + L * 3 * d * D + L * K * (d * D + 2 * d * KN);
    CHECK(count_activated_params(mone) == mone_expected);
    CHECK(count_activated_params(mone) == 289063936);
    const int64_t moe_expected = (total - experts_all) + L * 3 * d * D + L * K * 3 * d * D;
    CHECK(count_activated_params(moe) == moe_expected);
    CHECK(count_activated_params(mone) < count_activated_params(moe));
    // MONE.md: with K_N = D/4 a routed expert touches (D + 2·D/4) / 3D = 50% of its weights.
    CHECK((count_activated_params(moe) - count_activated_params(mone)) * 2 == L * K * 3 * d * D);

    const SpecStats st = value_or_die(compute_spec_stats(mone, 1, 2048));
    CHECK(st.embedding_params == 2 * 50304 * d);
    CHECK(st.activated_params_non_embedding == st.activated_params - 2 * 50304 * d);

    // A dense model activates everything.
    const ModelSpec dense = load_config("tiny_dense");
    CHECK(count_activated_params(dense) == count_params(dense).total());
  }

  TEST_CASE("sparsified shared experts, tied embeddings and kv heads change the counts as stated") {
    ModelSpec s = load_config("tiny_mone");
    const int64_t d = 128, D = 128, KN = 32, L = 2;
    const int64_t base_total = count_params(s).total();
    const int64_t base_active = count_activated_params(s);
    CHECK(base_total == formula_total(s));

    ModelSpec sparse = s;
    sparse.set_sparsify_shared_expert(true);
    CHECK(count_params(sparse).total() == base_total);
    CHECK(base_active - count_activated_params(sparse) == L * (2 * d * D - 2 * d * KN));

    ModelSpec tied = s;
    tied.set_tie_word_embeddings(true);
    CHECK(base_total - count_params(tied).total() == 1024 * d);
    CHECK(count_params(tied).total() == formula_total(tied));
    CHECK(count_params(tied).lm_head == 0);

    ModelSpec gqa = s;
    gqa.set_num_key_value_heads(2);  // k, v shrink from [128, 128] to [64, 128]
    CHECK(base_total - count_params(gqa).total() == L * 2 * d * (d - 64));
    CHECK(count_params(gqa).total() == formula_total(gqa));

    ModelSpec wide_shared = s;
    wide_shared.set_shared_expert_intermediate_size(256);
    CHECK(shared_expert_width(wide_shared) == 256);
    CHECK(count_params(wide_shared).total() - base_total == L * 3 * d * 128);
  }

  TEST_CASE("training FLOPs per token: 6 x activated matmul weights + 6·L·T·d") {
    const ModelSpec s = load_config("mone_925m");
    const int64_t V = 50304, d = 1024, L = 24, T = 2048;
    const int64_t norms = L * 2 * d + d;
    // matmul weights: activated minus the embedding lookup and the norms (lm_head stays).
    const int64_t M = 289063936 - V * d - norms;
    const SpecStats st = value_or_die(compute_spec_stats(s, 1, T));
    CHECK(st.activated_matmul_params == M);
    CHECK(st.training_flops_per_token == doctest::Approx(6.0 * M + 6.0 * L * T * d).epsilon(1e-12));
    CHECK(training_flops_per_token(s, 1024) < training_flops_per_token(s, 2048));

    // Straight-through adds 8·d·(D - K_N) per routed slot per layer.
    ModelSpec st_spec = s;
    st_spec.set_neuron_topk_backward(ModelSpec::STRAIGHT_THROUGH);
    CHECK(training_flops_per_token(st_spec, T) - training_flops_per_token(s, T) ==
          doctest::Approx(8.0 * d * (576 - 144) * 2 * L));
  }

  TEST_CASE("memory of a training step: bytes per parameter and the activation formula") {
    const ModelSpec s = load_config("tiny_dense");
    const SpecStats st = value_or_die(compute_spec_stats(s, 2, 256));
    const double P = static_cast<double>(st.total_params);
    CHECK(st.memory_f32.weights == 4 * P);
    CHECK(st.memory_f32.grads == 4 * P);
    CHECK(st.memory_f32.optimizer == 8 * P);
    CHECK(st.memory_bf16.weights == 6 * P);
    CHECK(st.memory_bf16.grads == 4 * P);
    // A per token for tiny-dense, by hand: per layer 4d + 2·kv·hd + H + 2d + 4I
    // = 512 + 256 + 4 + 256 + 1536 = 2564; two layers, plus 2d + 2V = 2304.
    CHECK(st.activation_elements_per_token == 2 * 2564 + 2304);
    CHECK(st.memory_f32.activations == 7432.0 * 512 * 4);
    CHECK(st.memory_bf16.activations == 7432.0 * 512 * 2);
    CHECK(st.memory_f32.total() == 16 * P + 7432.0 * 512 * 4);

    // MoNE's gathered strategy saves K_N-wide up/product per slot; masked-dense saves D-wide ones.
    ModelSpec gathered = load_config("tiny_mone");
    gathered.set_mone_strategy(ModelSpec::GATHERED);
    ModelSpec masked = gathered;
    masked.set_mone_strategy(ModelSpec::MASKED_DENSE);
    CHECK(activation_elements_per_token(masked) -
              activation_elements_per_token(gathered) ==
          2 * 2 * 2 * (128 - 32));  // layers · K · (up + product) · (D - K_N)
  }

  TEST_CASE("compute_spec_stats rejects bad batch and sequence sizes") {
    const ModelSpec s = load_config("tiny_mone");
    auto zero_batch = compute_spec_stats(s, 0, 16);
    REQUIRE_FALSE(zero_batch.ok());
    CHECK(contains(std::string(zero_batch.status().message()), "batch size 0"));
    auto long_seq = compute_spec_stats(s, 1, 257);
    REQUIRE_FALSE(long_seq.ok());
    CHECK(contains(std::string(long_seq.status().message()), "max_position_embeddings = 256"));
    ModelSpec bad = s;
    bad.set_hidden_size(0);
    CHECK_FALSE(compute_spec_stats(bad, 1, 16).ok());
  }

  TEST_CASE("number formatting") {
    CHECK(format_param_count(926073856) == "926.07M");
    CHECK(format_param_count(2815117312) == "2815.1M");
    CHECK(format_param_count(1280640) == "1.2806M");
    CHECK(format_param_count(123456) == "123.46K");
    CHECK(format_param_count(512) == "512");
    CHECK(format_param_count(123456789012) == "123.46B");
    CHECK(format_param_count(123456789012345) == "123457B");
    CHECK(format_bytes(1.5 * 1024 * 1024 * 1024) == "1.50 GiB");
    CHECK(format_bytes(100) == "100 B");
    CHECK(format_flops(5.55e9) == "5.55 GFLOP");
    CHECK(format_flops(999.9) == "1 KFLOP");
  }

  TEST_CASE("derived sizes: kv heads, shared width, K_N defaults") {
    ModelSpec s = load_config("tiny_mone");
    CHECK(num_kv_heads(s) == 4);
    CHECK(head_dim(s) == 32);
    CHECK(shared_expert_width(s) == 128);
    CHECK(effective_neuron_topk(s) == 32);
    s.set_neuron_topk(0);
    CHECK(effective_neuron_topk(s) == 128 / 4);
    s.set_neuron_topk(100);
    CHECK(effective_neuron_topk(s) == 100);
    CHECK(shared_expert_neuron_topk(s) == 128);  // dense shared expert
    s.set_sparsify_shared_expert(true);
    CHECK(shared_expert_neuron_topk(s) == 100);  // K_N
    s.set_sparsify_shared_expert(false);
    s.set_shared_expert_neuron_topk(40);
    CHECK(shared_expert_neuron_topk(s) == 40);
    s.clear_shared_expert_neuron_topk();
    s.set_ffn_type(ModelSpec::MOE);  // MoE ignores neuron_topk: every neuron is used
    CHECK(effective_neuron_topk(s) == 128);
    CHECK(shared_expert_neuron_topk(s) == 128);
    s.set_ffn_type(ModelSpec::DENSE);
    CHECK(effective_neuron_topk(s) == 0);
    CHECK_FALSE(has_experts(s));
  }

  TEST_CASE("model_spec_to_text writes every field and round-trips") {
    ModelSpec s;
    s.set_vocab_size(64);
    s.set_hidden_size(16);
    s.set_num_hidden_layers(1);
    s.set_num_attention_heads(2);
    s.set_max_position_embeddings(8);
    s.set_num_experts(4);
    s.set_moe_intermediate_size(8);
    const std::string text = model_spec_to_text(s);
    CHECK(contains(text, "initializer_range: 0.02"));  // unset, written as its default
    CHECK(contains(text, "mone_strategy: GATHERED"));
    CHECK(contains(text, "ffn_type: MONE"));
    CHECK(contains(text, "num_experts_per_tok: 2"));
    const ModelSpec back = value_or_die(parse_model_spec(text, "<roundtrip>"));
    CHECK(back.SerializeAsString() ==
          value_or_die(parse_model_spec(model_spec_to_text(back), "x")).SerializeAsString());
    CHECK(back.vocab_size() == 64);
    CHECK(back.rms_norm_eps() == 1e-6);
    CHECK(back.has_rms_norm_eps());
    CHECK_FALSE(contains(text, "mlp_only_layers"));  // an empty list writes nothing
    // A list field is written element by element and read back.
    s.set_num_hidden_layers(3);
    s.set_intermediate_size(12);
    s.add_mlp_only_layers(0);
    s.add_mlp_only_layers(2);
    const ModelSpec listed = value_or_die(parse_model_spec(model_spec_to_text(s), "<list>"));
    CHECK(listed.mlp_only_layers_size() == 2);
    CHECK(listed.mlp_only_layers(1) == 2);
    CHECK(num_moe_layers(listed) == 1);
    CHECK(num_dense_layers(listed) == 2);
  }

  TEST_CASE("num_moe_layers counts every step-th layer less mlp_only_layers, layer by layer and at any depth") {
    ModelSpec s = load_config("tiny_mone");
    for (int64_t L : {1, 2, 5, 6, 7, 12}) {
      for (int64_t step : {1, 2, 3}) {
        s.set_num_hidden_layers(L);
        s.set_decoder_sparse_step(step);
        s.clear_mlp_only_layers();
        for (int64_t layer = 0; layer < L; layer += 2) s.add_mlp_only_layers(layer);
        int64_t counted = 0;
        for (int64_t i = 0; i < L; ++i) counted += is_moe_layer(s, i);
        CHECK(num_moe_layers(s) == counted);
        CHECK(num_dense_layers(s) == L - counted);
      }
    }
    // A spec naming two billion layers is validated at once (the fuzzer found a layer-by-layer
    // count that took seconds); every third of them is routed, less the two listed dense ones.
    s.set_num_hidden_layers(int64_t{2} << 30);
    s.set_decoder_sparse_step(3);
    s.clear_mlp_only_layers();
    s.add_mlp_only_layers(2);
    s.add_mlp_only_layers(5);
    s.add_mlp_only_layers(6);
    s.set_intermediate_size(64);
    CHECK(num_moe_layers(s) == (int64_t{2} << 30) / 3 - 2);
    CHECK(validate_model_spec(s, "<deep>").ok());
  }

  TEST_CASE("architecture variants: parameter counts of biases, q/k norms, the shared gate and dense layers") {
    const ModelSpec s = load_config("tiny_mone");  // d 128, kv width 128, L 2, E 8, D 128, S 1
    const int64_t d = 128, L = 2, base = count_params(s).total();
    ModelSpec v = s;
    v.set_attention_qkv_bias(true);
    CHECK(count_params(v).total() - base == L * 3 * d);
    v.set_attention_output_bias(true);
    CHECK(count_params(v).total() - base == L * 4 * d);
    v = s;
    v.set_qk_norm(true);
    CHECK(count_params(v).norms - count_params(s).norms == L * 2 * d);
    CHECK(count_activated_params(v) - count_activated_params(s) == L * 2 * d);
    v = s;
    v.set_shared_expert_gate(true);
    CHECK(count_params(v).router - count_params(s).router == L * d);
    // A dense second layer of width 384 instead of routed experts.
    v = s;
    v.set_intermediate_size(384);
    v.add_mlp_only_layers(1);
    const ParamBreakdown p = count_params(v);
    CHECK(p.dense_ffn == 3 * d * 384);
    CHECK(p.routed_experts == count_params(s).routed_experts / 2);
    CHECK(p.router == count_params(s).router / 2);
    CHECK(count_activated_params(v) < count_activated_params(s) + 3 * d * 384);
    CHECK(activation_elements_per_token(v) != activation_elements_per_token(s));
  }

  TEST_CASE("parse errors name the file, line and column") {
    const std::string text = "vocab_size: 64\nhidden_size: 16\nhiden_layers: 2\n";
    auto r = parse_model_spec(text, "bad.textproto");
    REQUIRE_FALSE(r.ok());
    const std::string msg(r.status().message());
    CHECK(contains(msg, "bad.textproto:3:1:"));
    CHECK(contains(msg, "hiden_layers"));

    auto wrong_type = parse_model_spec("vocab_size: 64\n  hidden_size: abc\n", "t.textproto");
    REQUIRE_FALSE(wrong_type.ok());
    CHECK(contains(std::string(wrong_type.status().message()), "t.textproto:2:16:"));

    auto bad_enum = parse_model_spec("ffn_type: SPARSE\n", "e.textproto");
    REQUIRE_FALSE(bad_enum.ok());
    CHECK(contains(std::string(bad_enum.status().message()), "e.textproto:1:11:"));  // at SPARSE
    CHECK(contains(std::string(bad_enum.status().message()), "SPARSE"));

    // A file on disk: the message names the path.
    const std::string path =
        std::filesystem::temp_directory_path() / "mone_test_spec_parse.textproto";
    std::ofstream(path) << "vocab_size: 64\nnum_experts: [1, 2]\n";
    auto from_file = load_model_spec(path);
    REQUIRE_FALSE(from_file.ok());
    CHECK(contains(std::string(from_file.status().message()), path + ":2:"));
    std::filesystem::remove(path);
  }

  TEST_CASE("enum values in any letter case; an unknown one lists the allowed values") {
    const std::string base =
        "vocab_size: 64\nhidden_size: 32\nnum_hidden_layers: 1\nnum_attention_heads: 2\n"
        "max_position_embeddings: 16\nffn_type: mone\nnum_experts: 4\nmoe_intermediate_size: 32\n";
    // config.json's spellings, as a user copies them from a checkpoint.
    auto lower = parse_model_spec(base + "hidden_act: sigmoid\nneuron_topk_backward: straight_through\n"
                                         "mone_strategy: Masked_Dense\n", "lower.textproto");
    REQUIRE_MESSAGE(lower.ok(), lower.status().message());
    CHECK(lower->hidden_act() == ModelSpec::SIGMOID);
    CHECK(lower->neuron_topk_backward() == ModelSpec::STRAIGHT_THROUGH);
    CHECK(lower->mone_strategy() == ModelSpec::MASKED_DENSE);
    CHECK(lower->ffn_type() == ModelSpec::MONE);
    // Nested in another message (a TrainSpec's model) too: merge_textproto serves both.
    auto gelu = parse_model_spec("vocab_size: 64\nhidden_act: gelu\n", "g.textproto");
    REQUIRE_FALSE(gelu.ok());
    const std::string msg(gelu.status().message());
    CHECK(contains(msg, "g.textproto:2:13:"));  // at gelu
    CHECK(contains(msg, "\"gelu\""));
    CHECK(contains(msg, "Allowed: SILU, SIGMOID (any letter case)."));
    auto ffn = parse_model_spec("ffn_type: sparse\n", "f.textproto");
    REQUIRE_FALSE(ffn.ok());
    CHECK(contains(std::string(ffn.status().message()), "Allowed: DENSE, MOE, MONE"));
    auto strategy = parse_model_spec("mone_strategy: fastest\n", "s.textproto");
    REQUIRE_FALSE(strategy.ok());
    CHECK(contains(std::string(strategy.status().message()), "Allowed: MASKED_DENSE, GATHERED, AUTO"));
  }

  TEST_CASE("a singular field given twice is an error naming its second line") {
    auto twice = parse_model_spec("vocab_size: 64\nhidden_size: 128\nnum_hidden_layers: 2\nhidden_size: 64\n",
                                  "twice.textproto");
    REQUIRE_FALSE(twice.ok());
    const std::string msg(twice.status().message());
    CHECK(contains(msg, "twice.textproto:4:"));
    CHECK(contains(msg, "hidden_size"));
    CHECK(contains(msg, "specified multiple times"));
    // Merging a second text into a message is still an override (that is what --set does).
    ModelSpec spec;
    REQUIRE(merge_textproto("hidden_size: 128", "a", &spec).ok());
    REQUIRE(merge_textproto("hidden_size: 64", "b", &spec).ok());
    CHECK(spec.hidden_size() == 64);
  }

  TEST_CASE("a missing spec file is NotFound and names the path") {
    auto r = load_model_spec("/nonexistent/dir/model.textproto");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kNotFound);
    CHECK(contains(std::string(r.status().message()), "/nonexistent/dir/model.textproto"));
  }

  TEST_CASE("every validation error names the source, the field and the value") {
    struct Case {
      const char* what;
      std::function<void(ModelSpec&)> mutate;
      std::string expected;  // the start of the message after "<source>: "
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<Case> cases = {
        {"name not UTF-8", [](ModelSpec& s) { s.set_name("tiny\xff"); },
         "field name = \"tiny\\377\": must be valid UTF-8"},
        {"vocab", [](ModelSpec& s) { s.set_vocab_size(0); }, "field vocab_size = 0: must be > 0"},
        {"hidden", [](ModelSpec& s) { s.set_hidden_size(-8); },
         "field hidden_size = -8: must be > 0"},
        {"layers", [](ModelSpec& s) { s.set_num_hidden_layers(0); }, "field num_hidden_layers = 0"},
        {"heads", [](ModelSpec& s) { s.set_num_attention_heads(0); },
         "field num_attention_heads = 0"},
        {"width % heads", [](ModelSpec& s) { s.set_hidden_size(130); },
         "field hidden_size = 130: must be a multiple of num_attention_heads = 4"},
        {"odd head_dim", [](ModelSpec& s) { s.set_hidden_size(12); },
         "field hidden_size = 12: head_dim"},
        {"negative kv heads", [](ModelSpec& s) { s.set_num_key_value_heads(-1); },
         "field num_key_value_heads = -1"},
        {"kv heads not dividing", [](ModelSpec& s) { s.set_num_key_value_heads(3); },
         "field num_key_value_heads = 3: must divide num_attention_heads = 4"},
        {"eps", [](ModelSpec& s) { s.set_rms_norm_eps(0); }, "field rms_norm_eps = 0"},
        {"eps nan", [nan](ModelSpec& s) { s.set_rms_norm_eps(nan); }, "field rms_norm_eps = nan"},
        {"theta", [](ModelSpec& s) { s.set_rope_theta(-1); }, "field rope_theta = -1"},
        {"max positions", [](ModelSpec& s) { s.set_max_position_embeddings(0); },
         "field max_position_embeddings = 0"},
        {"dense width",
         [](ModelSpec& s) {
           s.set_ffn_type(ModelSpec::DENSE);
           s.clear_intermediate_size();
         },
         "field intermediate_size = 0"},
        {"dense sparsify",
         [](ModelSpec& s) {
           s.set_ffn_type(ModelSpec::DENSE);
           s.set_intermediate_size(64);
           s.set_sparsify_shared_expert(true);
         },
         "field sparsify_shared_expert = true: needs ffn_type = MONE"},
        {"experts", [](ModelSpec& s) { s.set_num_experts(0); }, "field num_experts = 0"},
        {"K = 0", [](ModelSpec& s) { s.set_num_experts_per_tok(0); },
         "field num_experts_per_tok = 0: must be in [1, num_experts = 8]"},
        {"K > E", [](ModelSpec& s) { s.set_num_experts_per_tok(9); },
         "field num_experts_per_tok = 9"},
        {"D", [](ModelSpec& s) { s.set_moe_intermediate_size(0); },
         "field moe_intermediate_size = 0"},
        {"shared count", [](ModelSpec& s) { s.set_num_shared_experts(-1); },
         "field num_shared_experts = -1"},
        {"shared width", [](ModelSpec& s) { s.set_shared_expert_intermediate_size(-4); },
         "field shared_expert_intermediate_size = -4"},
        {"K_N < 0", [](ModelSpec& s) { s.set_neuron_topk(-1); }, "field neuron_topk = -1"},
        {"K_N > D", [](ModelSpec& s) { s.set_neuron_topk(129); },
         "field neuron_topk = 129: must be in [0, moe_intermediate_size = 128]"},
        {"K_N default 0",
         [](ModelSpec& s) {
           s.set_moe_intermediate_size(3);
           s.set_neuron_topk(0);
         },
         "field neuron_topk = 0: the default moe_intermediate_size / 4 = 0"},
        {"sparsify MoE",
         [](ModelSpec& s) {
           s.set_ffn_type(ModelSpec::MOE);
           s.set_sparsify_shared_expert(true);
         },
         "field sparsify_shared_expert = true: needs ffn_type = MONE"},
        {"sparsify K_N > D_s",
         [](ModelSpec& s) {
           s.set_shared_expert_intermediate_size(16);
           s.set_sparsify_shared_expert(true);
         },
         "field sparsify_shared_expert = true: K_N = 32 exceeds the shared expert width 16"},
        {"selector MoE",
         [](ModelSpec& s) {
           s.set_ffn_type(ModelSpec::MOE);
           s.set_neuron_selector(ModelSpec::SIGNED_GATE);
         },
         "field neuron_selector = SIGNED_GATE: needs ffn_type = MONE"},
        {"shared K_N > D_s", [](ModelSpec& s) { s.set_shared_expert_neuron_topk(129); },
         "field shared_expert_neuron_topk = 129: must be in [1, D_s = 128]"},
        {"shared K_N < 0", [](ModelSpec& s) { s.set_shared_expert_neuron_topk(-2); },
         "field shared_expert_neuron_topk = -2: must be in [1, D_s = 128]"},
        {"shared K_N and sparsify",
         [](ModelSpec& s) {
           s.set_shared_expert_neuron_topk(8);
           s.set_sparsify_shared_expert(true);
         },
         "field shared_expert_neuron_topk = 8: set it or sparsify_shared_expert, not both"},
        {"shared K_N without shared experts",
         [](ModelSpec& s) {
           s.set_num_shared_experts(0);
           s.set_shared_expert_neuron_topk(8);
         },
         "field shared_expert_neuron_topk = 8: needs ffn_type = MONE and num_shared_experts > 0"},
        {"aux", [](ModelSpec& s) { s.set_router_aux_loss_coef(-0.1); },
         "field router_aux_loss_coef = -0.1"},
        {"z", [](ModelSpec& s) { s.set_router_z_loss_coef(-1); }, "field router_z_loss_coef = -1"},
        {"ng", [](ModelSpec& s) { s.set_neuron_aux_loss_coef(-0.5); },
         "field neuron_aux_loss_coef = -0.5"},
        {"ng inf", [](ModelSpec& s) { s.set_neuron_aux_loss_coef(INFINITY); },
         "field neuron_aux_loss_coef = inf"},
        {"init", [](ModelSpec& s) { s.set_initializer_range(0); }, "field initializer_range = 0"},
        {"clip", [](ModelSpec& s) { s.set_clip_qkv(-1); }, "field clip_qkv = -1: must be a finite number >= 0"},
        {"clip nan", [nan](ModelSpec& s) { s.set_clip_qkv(nan); }, "field clip_qkv = nan"},
        {"shared gate without shared experts",
         [](ModelSpec& s) {
           s.set_num_shared_experts(0);
           s.set_shared_expert_gate(true);
         },
         "field shared_expert_gate = true: needs num_shared_experts >= 1"},
        {"sparse step", [](ModelSpec& s) { s.set_decoder_sparse_step(0); }, "field decoder_sparse_step = 0: must be > 0"},
        {"mlp-only layer out of range", [](ModelSpec& s) { s.add_mlp_only_layers(2); },
         "field mlp_only_layers = 2: must be a layer index in [0, num_hidden_layers = 2)"},
        {"mlp-only layer twice",
         [](ModelSpec& s) {
           s.set_intermediate_size(64);
           s.add_mlp_only_layers(1);
           s.add_mlp_only_layers(1);
         },
         "field mlp_only_layers = 1: is listed twice"},
        {"dense layer without a width", [](ModelSpec& s) { s.add_mlp_only_layers(0); },
         "field intermediate_size = 0: must be > 0: 1 layer(s) are dense SwiGLUs"},
        {"too large",
         [](ModelSpec& s) {
           s.set_hidden_size(1 << 20);
           s.set_num_hidden_layers(1 << 20);
         },
         "the spec describes about"},
    };
    const ModelSpec base = load_config("tiny_mone");
    REQUIRE(validate_model_spec(base, "tiny.textproto").ok());
    for (const Case& c : cases) {
      ModelSpec s = base;
      c.mutate(s);
      const Status status = validate_model_spec(s, "tiny.textproto");
      INFO(c.what << ": " << status.ToString());
      REQUIRE_FALSE(status.ok());
      CHECK(status.code() == absl::StatusCode::kInvalidArgument);
      CHECK(contains(std::string(status.message()), "tiny.textproto: " + c.expected));
    }
    // The same errors reach users through parse_model_spec and load_model_spec.
    std::ifstream in(config_path("tiny_mone"));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find("num_experts_per_tok: 2");
    REQUIRE(at != std::string::npos);
    text.replace(at, 22, "num_experts_per_tok: 9");
    auto parsed = parse_model_spec(text, "p.textproto");
    REQUIRE_FALSE(parsed.ok());
    CHECK(contains(std::string(parsed.status().message()),
                   "p.textproto: field num_experts_per_tok = 9"));
  }

}  // TEST_SUITE

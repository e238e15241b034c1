// Checkpoints of a training run: config.json's keys, the save/load round trip, and refusing a
// checkpoint of a different model.
#include <doctest/doctest.h>

#include <optional>

#include "models/spec.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpointing.h"
#include "train/model_config.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;

proto::ModelSpec tiny_spec(int64_t neuron_topk = 8) {
  auto spec = models::parse_model_spec(tiny_model_text("MONE", neuron_topk), "<tiny>");
  REQUIRE(spec.ok());
  return *spec;
}

// A model with its optimizer, as the trainer holds them.
struct ModelAndOptimizer {
  std::unique_ptr<models::Transformer> model;
  models::ParameterList params;
  std::optional<AdamW> opt;
};

ModelAndOptimizer make(const proto::ModelSpec& spec, uint64_t seed) {
  ModelAndOptimizer m;
  auto model = models::Transformer::create(spec, seed);
  REQUIRE(model.ok());
  m.model = std::move(*model);
  m.params = m.model->parameters();
  auto opt = AdamW::create(m.params, {});
  REQUIRE(opt.ok());
  m.opt.emplace(std::move(*opt));
  return m;
}

TEST_SUITE("unit") {
  TEST_CASE("config.json has every key DESIGN.md lists, in Hugging Face style, and reads back") {
    const proto::ModelSpec spec = tiny_spec(0);  // 0: D/4
    const nlohmann::json c = model_config_json(spec);
    for (const char* key :
         {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
          "rms_norm_eps", "rope_theta", "max_position_embeddings", "tie_word_embeddings", "ffn_type",
          "intermediate_size", "num_experts", "num_experts_per_tok", "moe_intermediate_size", "num_shared_experts",
          "shared_expert_intermediate_size", "norm_topk_prob", "hidden_act", "neuron_topk", "neuron_topk_backward",
          "sparsify_shared_expert", "router_aux_loss_coef", "router_z_loss_coef", "neuron_aux_loss_coef",
          "neuron_aux_loss_form"}) {
      CHECK_MESSAGE(c.contains(key), key);
    }
    CHECK(c["architectures"] == nlohmann::json::array({"MoneForCausalLM"}));
    CHECK(c["model_type"] == "mone");
    CHECK(c["ffn_type"] == "mone");
    CHECK(c["hidden_act"] == "silu");
    CHECK(c["neuron_topk_backward"] == "hard");
    CHECK(c["neuron_topk"] == 8);                       // the value used, not 0
    CHECK(c["num_key_value_heads"] == 2);               // = heads
    CHECK(c["shared_expert_intermediate_size"] == 32);  // = D

    auto back = model_spec_from_config_json(c, "config.json");
    REQUIRE(back.ok());
    CHECK(back->hidden_size() == 32);
    CHECK(back->ffn_type() == proto::ModelSpec::MONE);
    CHECK(models::effective_neuron_topk(*back) == models::effective_neuron_topk(spec));

    // The list field mlp_only_layers is a JSON list both ways; a non-list or a non-integer is refused.
    CHECK(c["mlp_only_layers"] == nlohmann::json::array());
    proto::ModelSpec listed = spec;
    listed.set_intermediate_size(48);
    listed.add_mlp_only_layers(0);
    const nlohmann::json lc = model_config_json(listed);
    CHECK(lc["mlp_only_layers"] == nlohmann::json::array({0}));
    auto listed_back = model_spec_from_config_json(lc, "config.json");
    REQUIRE(listed_back.ok());
    CHECK(listed_back->mlp_only_layers_size() == 1);
    CHECK_FALSE(models::is_moe_layer(*listed_back, 0));
    for (const nlohmann::json& wrong : {nlohmann::json(0), nlohmann::json::array({"0"})}) {
      nlohmann::json bad_list = lc;
      bad_list["mlp_only_layers"] = wrong;
      auto r = model_spec_from_config_json(bad_list, "y/config.json");
      REQUIRE_FALSE(r.ok());
      CHECK(std::string(r.status().message()).find("y/config.json: key \"mlp_only_layers\" must be a list of integers") !=
            std::string::npos);
    }

    nlohmann::json bad = c;
    bad["hidden_act"] = "gelu";
    auto s = model_spec_from_config_json(bad, "x/config.json");
    CHECK_FALSE(s.ok());
    CHECK(std::string(s.status().message()).find("x/config.json") != std::string::npos);
    CHECK(std::string(s.status().message()).find("hidden_act") != std::string::npos);
  }

  TEST_CASE("save_checkpoint and load_checkpoint_for_resume restore weights, moments and state") {
    ScratchDir dir;
    const proto::ModelSpec spec = tiny_spec();
    ModelAndOptimizer a = make(spec, 1);
    models::ParameterList& pa = a.params;
    std::optional<AdamW>& opt_a = a.opt;
    for (auto& p : pa) p.param.set_grad(Tensor::full(p.param.shape(), 0.01));
    REQUIRE(opt_a->step(pa, 1e-3, 1.0).ok());

    proto::TrainSpec ts;
    *ts.mutable_model() = spec;
    TrainerState state = make_trainer_state(ts);
    state.step = 3;
    state.optimizer_step = opt_a->step_count();
    state.data_position = 6;
    state.consecutive_nonfinite = 0;
    auto saved = save_checkpoint(dir.file("run"), pa, *opt_a, state, spec, 2);
    REQUIRE(saved.ok());
    CHECK(*saved == dir.file("run/step_00000003"));
    auto config = read_json_file(*saved + "/config.json");
    REQUIRE(config.ok());
    CHECK((*config)["vocab_size"] == 64);

    // A model with other weights (seed 2) comes back equal to the saved one.
    ModelAndOptimizer b = make(spec, 2);
    models::ParameterList& pb = b.params;
    std::optional<AdamW>& opt_b = b.opt;
    auto point = load_checkpoint_for_resume(dir.file("run"), spec, pb, *opt_b);
    REQUIRE_MESSAGE(point.ok(), point.status().message());
    CHECK(point->state.step == 3);
    CHECK(point->state.data_position == 6);
    CHECK(point->state.model_spec_sha256 == state.model_spec_sha256);
    CHECK(opt_b->step_count() == 1);
    for (size_t i = 0; i < pa.size(); ++i) {
      CHECK(pa[i].param.value().to_vector<float>() == pb[i].param.value().to_vector<float>());
      CHECK(opt_a->exp_avg()[i].to_vector<float>() == opt_b->exp_avg()[i].to_vector<float>());
      CHECK(opt_a->exp_avg_sq()[i].to_vector<float>() == opt_b->exp_avg_sq()[i].to_vector<float>());
    }

    // The model in the checkpoint loads for evaluation from the checkpoint or the run directory.
    std::string used;
    auto loaded = load_model_from_checkpoint(dir.file("run"), &used);
    REQUIRE(loaded.ok());
    CHECK(used == *saved);
    CHECK((*loaded)->parameters()[1].param.value().to_vector<float>() == pa[1].param.value().to_vector<float>());

    // Another model spec is refused, naming the checkpoint and the first differing field.
    const proto::ModelSpec other = tiny_spec(16);
    ModelAndOptimizer c = make(other, 1);
    auto refused = load_checkpoint_for_resume(dir.file("run"), other, c.params, *c.opt);
    REQUIRE_FALSE(refused.ok());
    const std::string msg(refused.status().message());
    CHECK(msg.find("step_00000003") != std::string::npos);
    CHECK(msg.find("different model spec") != std::string::npos);
    CHECK(msg.find("neuron_topk: 8") != std::string::npos);
  }

  TEST_CASE("read_trainer_state names the file and the key") {
    ScratchDir dir;
    write_text(dir.file("trainer_state.json"), "{\"step\": 3}");
    auto s = read_trainer_state(dir.path());
    REQUIRE_FALSE(s.ok());
    CHECK(std::string(s.status().message()).find("trainer_state.json") != std::string::npos);
    CHECK(std::string(s.status().message()).find("optimizer_step") != std::string::npos);
  }
}

}  // namespace
}  // namespace mone::train

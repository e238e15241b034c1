// mone gradstudy on tiny checkpoints: at K_N = D (a MoE) HARD, STRAIGHT_THROUGH and the dense
// gradient coincide and nothing is discarded; on a MoNE they differ only where the top-k is; the
// HARD gradient is `mone eval --grads-out`'s; a step of size 0 flips nothing.
#include <doctest/doctest.h>

#include <cmath>

#include "research/gradstudy.h"
#include "tests/research/research_test_util.h"
#include "train/checkpoint/safetensors.h"

using namespace mone;
using namespace mone::research_testing;

namespace {

const nlohmann::json& layer_group(const nlohmann::json& g, int64_t layer, const std::string& name) {
  for (const auto& x : g["groups"]) {
    if (x["layer"] == layer && x["group"] == name) return x;
  }
  FAIL("no group " << name << " in layer " << layer);
  return g;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("gradstudy: parameter groups from Hugging Face names") {
  using research::parameter_group;
  CHECK(parameter_group("model.embed_tokens.weight") == std::pair<int64_t, std::string>{-1, "embed"});
  CHECK(parameter_group("lm_head.weight") == std::pair<int64_t, std::string>{-1, "lm_head"});
  CHECK(parameter_group("model.layers.3.self_attn.q_proj.weight") == std::pair<int64_t, std::string>{3, "attention"});
  CHECK(parameter_group("model.layers.0.input_layernorm.weight") == std::pair<int64_t, std::string>{0, "norms"});
  CHECK(parameter_group("model.layers.1.mlp.gate.weight") == std::pair<int64_t, std::string>{1, "router"});
  CHECK(parameter_group("model.layers.1.mlp.experts.up_proj.weight") == std::pair<int64_t, std::string>{1, "experts.up"});
  CHECK(parameter_group("model.layers.1.mlp.shared_expert.down_proj.weight") ==
        std::pair<int64_t, std::string>{1, "shared.down"});
  CHECK(parameter_group("model.layers.2.mlp.gate_proj.weight") == std::pair<int64_t, std::string>{2, "mlp.gate"});
}

}  // TEST_SUITE("unit")

TEST_SUITE("e2e") {

TEST_CASE("gradstudy: HARD and STRAIGHT_THROUGH coincide at K_N = D (and equal the dense gradient)") {
  const nlohmann::json g = run_json("gradstudy" + tool_flags(tiny_run("MOE"), 2) + " --json");
  CHECK(g["neuron_topk"] == 32);
  CHECK(g["dtype"] == "f64");
  REQUIRE(g["groups"].size() == 3 + 2 * 9);  // embed, final_norm, lm_head; 9 groups per layer
  for (const auto& x : g["groups"]) {
    CAPTURE(x.dump());
    CHECK(x["cos_hard_straight_through"].get<double>() == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(x["cos_hard_dense"].get<double>() == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(x["norm_hard"].get<double>() == doctest::Approx(x["norm_straight_through"].get<double>()).epsilon(1e-12));
    CHECK(x["norm_hard"].get<double>() > 0);
  }
  for (const auto& m : g["selected_mass"]) {
    for (const char* pass : {"hard", "straight_through", "dense"}) {
      CHECK(m[pass]["gate_share"] == 1.0);  // every neuron is selected
      CHECK(m[pass]["up_share"] == 1.0);
    }
  }
  for (const auto& f : g["flips_after_one_step"]) CHECK(f["hard"] == f["straight_through"]);
}

TEST_CASE("gradstudy: on a MoNE the estimators differ where the top-k is, and HARD is eval's gradient") {
  const std::string dir = tiny_run("MONE");
  mone_testing::TempDir out;
  const nlohmann::json g = run_json("gradstudy" + tool_flags(dir, 2) + " --json --out " + out.file("gs"));
  CHECK(g["neuron_topk"] == 8);
  // The last layer's down projections, router and shared expert get the same gradient either way:
  // the estimators differ only in what flows into G and U, then below.
  for (const char* same : {"experts.down", "router", "shared.down", "shared.up"}) {
    CHECK(layer_group(g, 1, same)["cos_hard_straight_through"].get<double>() == doctest::Approx(1.0).epsilon(1e-12));
  }
  CHECK(layer_group(g, 1, "experts.gate")["cos_hard_straight_through"].get<double>() < 0.999);
  CHECK(layer_group(g, 1, "experts.up")["cos_hard_straight_through"].get<double>() < 0.999);
  CHECK(layer_group(g, 0, "attention")["cos_hard_straight_through"].get<double>() < 1.0 - 1e-9);
  for (const auto& m : g["selected_mass"]) {
    for (const char* pass : {"hard", "straight_through", "dense"}) {
      CHECK(m[pass]["gate_share"].get<double>() > 0.0);
      CHECK(m[pass]["gate_share"].get<double>() < 1.0);
    }
  }
  // The HARD gradient of the total loss is the one `mone eval --grads-out` writes (f64, same batches).
  const nlohmann::json e = run_json("eval" + tool_flags(dir, 2) + " --dtype f64 --json --grads-out " + out.file("g.safetensors"));
  CHECK(g["loss_value"].get<double>() == doctest::Approx(e["total_loss"].get<double>()).epsilon(1e-12));
  auto grads = train::read_safetensors(out.file("g.safetensors"));
  REQUIRE(grads.ok());
  for (int64_t layer : {0, 1}) {
    double sq = 0;
    for (int expert = 0; expert < 4; ++expert) {
      const auto v = grads->tensors.at(absl::StrCat("model.layers.", layer, ".mlp.experts.", expert, ".gate_proj.weight"))
                         .to_vector<double>();
      for (double x : v) sq += x * x;
    }
    CHECK(layer_group(g, layer, "experts.gate")["norm_hard"].get<double>() == doctest::Approx(std::sqrt(sq)).epsilon(1e-10));
  }
  // The written files: the same JSON, and a plot with the expert groups' cosines per layer.
  CHECK(nlohmann::json::parse(read_text(out.file("gs/gradstudy.json"))) == g);
  const auto svg = read_svg(out.file("gs/gradstudy_cosine.svg"));
  const auto series = svg.with_class("series");
  REQUIRE(series.size() == 6);
  CHECK(series[0]->attr("data-name") == "hard experts.gate");
  const std::vector<double> y = mone_testing::numbers_of(series[0]->attr("data-y"));  // written with %.9g
  REQUIRE(y.size() == 2);
  CHECK(y[0] == doctest::Approx(layer_group(g, 0, "experts.gate")["cos_hard_dense"].get<double>()).epsilon(1e-8));
  CHECK(y[1] == doctest::Approx(layer_group(g, 1, "experts.gate")["cos_hard_dense"].get<double>()).epsilon(1e-8));
}

TEST_CASE("gradstudy: a step of size 0 flips nothing; the checkpoint's step flips some") {
  const std::string dir = tiny_run("MONE");
  const nlohmann::json still = run_json("gradstudy" + tool_flags(dir, 2) + " --json --lr 0");
  for (const auto& f : still["flips_after_one_step"]) {
    for (const char* est : {"hard", "straight_through"}) {
      CHECK(f[est]["tokens"] == 2 * 4 * 16);
      CHECK(f[est]["tokens_rerouted"] == 0);
      CHECK(f[est]["pairs"] == 2 * 4 * 16 * 2);
      CHECK(f[est]["pairs_changed"] == 0);
    }
  }
  const nlohmann::json moved = run_json("gradstudy" + tool_flags(dir, 2) + " --json --lr 0.01");
  CHECK(moved["moments"] == "checkpoint");
  int64_t changed = 0;
  for (const auto& f : moved["flips_after_one_step"]) changed += f["hard"]["pairs_changed"].get<int64_t>();
  CHECK(changed > 0);
  CommandResult r = run_mone("gradstudy" + tool_flags(dir, 2) + " --lr -1");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("--lr -1: must be a finite number >= 0") != std::string::npos);
}

}  // TEST_SUITE("e2e")

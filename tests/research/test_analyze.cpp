// mone analyze on tiny checkpoints: every histogram sums to what it counts (the margin histogram
// to the expert's tokens, |G| to tokens · D, the tokens to B·T·K per layer), the selection counts
// to the used slots, and the files it writes (CSV, SVG heat maps) hold the same numbers.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include "tests/research/research_test_util.h"

using namespace mone;
using namespace mone::research_testing;
using mone_testing::numbers_of;

namespace {

int64_t sum(const nlohmann::json& a) {
  int64_t s = 0;
  for (const auto& v : a) s += v.get<int64_t>();
  return s;
}

// Per layer: the histograms and counts add up (B 4, T 16, K 2, D 32, 3 batches).
void check_sums(const nlohmann::json& a, int64_t k_n, bool margins) {
  CHECK(a["tokens"] == 3 * 4 * 16);
  REQUIRE(a["layers"].size() == 2);
  for (const auto& layer : a["layers"]) {
    int64_t tokens = 0;
    REQUIRE(layer["experts"].size() == 4);
    CHECK(layer["abs_g_edges"].size() == 51);
    for (const auto& e : layer["experts"]) {
      const int64_t t = e["tokens"].get<int64_t>();
      tokens += t;
      CHECK(sum(e["abs_g_hist"]) == t * 32);
      CHECK(e.contains("margin_hist") == margins);
      if (margins) CHECK(sum(e["margin_hist"]) == t);
      const int64_t used = sum(e["neuron_counts"]);
      CHECK(used == doctest::Approx(e["used_per_token"].get<double>() * static_cast<double>(t)));
      CHECK(used <= t * k_n);
      int64_t dead = 0;
      for (const auto& c : e["neuron_counts"]) dead += c.get<int64_t>() == 0;
      CHECK(e["dead_neurons"] == dead);
      CHECK(e["negative_share"].get<double>() + e["positive_share"].get<double>() == doctest::Approx(1.0));
    }
    CHECK(tokens == 3 * 4 * 16 * 2);  // every (token, slot) pair once
  }
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("analyze: histograms sum to the token count, on a MoNE and a MoE") {
  const nlohmann::json mone = run_json("analyze" + tool_flags(tiny_run("MONE"), 3) + " --json");
  check_sums(mone, 8, true);
  for (const auto& e : mone["layers"][0]["experts"]) {
    CHECK(e["used_per_token"] == 8.0);  // abs_gate uses every one of its K_N slots
  }
  const nlohmann::json moe = run_json("analyze" + tool_flags(tiny_run("MOE"), 3) + " --json");
  check_sums(moe, 32, false);
  for (const auto& e : moe["layers"][1]["experts"]) {
    if (e["tokens"].get<int64_t>() > 0) CHECK(e["frequency_variance"] == 0.0);  // every neuron, every token
  }
}

TEST_CASE("analyze: the threshold selector uses at most K_N neurons per row, fewer on average") {
  const nlohmann::json a =
      run_json("analyze" + tool_flags(tiny_run("MONE", "neuron_selector: ABS_GATE_THRESHOLD\n"), 3) + " --json");
  CHECK(a["selector"] == "abs_gate_threshold");
  check_sums(a, 8, true);
  double used = 0, rows = 0;
  for (const auto& layer : a["layers"]) {
    for (const auto& e : layer["experts"]) {
      CHECK(e["used_per_token"].get<double>() <= 8.0);
      used += e["used_per_token"].get<double>() * e["tokens"].get<double>();
      rows += e["tokens"].get<double>();
    }
  }
  CHECK(used / rows < 8.0);
  CHECK(used / rows > 4.0);
  // gradstudy and sparsify take the threshold model too.
  const std::string dir = tiny_run("MONE", "neuron_selector: ABS_GATE_THRESHOLD\n");
  const nlohmann::json g = run_json("gradstudy --checkpoint " + dir + "/run --data " + dir + "/data --json --threads 1");
  CHECK(g["selector"] == "abs_gate_threshold");
  for (const auto& m : g["selected_mass"]) CHECK(m["hard"]["gate_share"].get<double>() <= 1.0);
  const nlohmann::json sp = run_json("sparsify" + tool_flags(dir, 3) + " --keep 1,0.5 --json");
  CHECK(sp["selector"] == "abs_gate_threshold");
  CHECK(sp["points"][1]["neuron_topk"] == 4);
}

TEST_CASE("analyze --out: the CSV and SVG files hold the JSON's numbers and parse as XML") {
  const std::string dir = tiny_run("MONE");
  mone_testing::TempDir out;
  const nlohmann::json a = run_json("analyze" + tool_flags(dir, 3) + " --json --out " + out.file("an"));
  CHECK(nlohmann::json::parse(read_text(out.file("an/analysis.json"))) == a);
  int svgs = 0;
  for (const auto& f : std::filesystem::directory_iterator(out.file("an"))) {
    if (f.path().extension() == ".svg") read_svg(f.path().string()), ++svgs;
  }
  CHECK(svgs == 1 + 3 * 2);  // tokens per expert, and three plots per layer
  // The neuron-load heat map of layer 1 is count / tokens of every (expert, neuron).
  const auto heat_svg = read_svg(out.file("an/layer1_neuron_load.svg"));
  const auto heat = heat_svg.with_class("heatmap");
  REQUIRE(heat.size() == 1);
  CHECK(heat[0]->attr("data-rows") == "4");
  CHECK(heat[0]->attr("data-cols") == "32");
  const std::vector<double> values = numbers_of(heat[0]->attr("data-values"));
  REQUIRE(values.size() == 4 * 32);
  for (int e = 0; e < 4; ++e) {
    const auto& ex = a["layers"][1]["experts"][e];
    for (int j = 0; j < 32; ++j) {
      const double want = ex["tokens"] == 0 ? 0.0 : ex["neuron_counts"][j].get<double>() / ex["tokens"].get<double>();
      CHECK(values[e * 32 + j] == doctest::Approx(want).epsilon(1e-8));
    }
  }
  // The tokens heat map: one row per layer.
  const auto tokens_svg = read_svg(out.file("an/tokens_per_expert.svg"));
  const auto tokens = tokens_svg.with_class("heatmap");
  REQUIRE(tokens.size() == 1);
  const std::vector<double> t = numbers_of(tokens[0]->attr("data-values"));
  REQUIRE(t.size() == 8);
  for (int e = 0; e < 4; ++e) CHECK(t[4 + e] == a["layers"][1]["experts"][e]["tokens"].get<double>());
  // The margin histogram of layer 0 is the experts' margin histograms summed.
  const auto margin_svg = read_svg(out.file("an/layer0_margin.svg"));
  const auto margin = margin_svg.with_class("histogram");
  REQUIRE(margin.size() == 1);
  const std::vector<double> counts = numbers_of(margin[0]->attr("data-counts"));
  double total = 0;
  for (double c : counts) total += c;
  CHECK(total == 3 * 4 * 16 * 2);
  // neurons.csv: a header and one line per (layer, expert, neuron).
  std::istringstream csv(read_text(out.file("an/neurons.csv")));
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  CHECK(lines == 1 + 2 * 4 * 32);
}

}  // TEST_SUITE("e2e")

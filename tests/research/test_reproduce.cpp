// scripts/reproduce.sh --quick end to end (docs/REPRODUCTION.md): every setting trained with two
// seeds on the fortunes corpus, evaluated, analyzed and (MoE) sparsified, then `mone claims` and
// `mone report`. The summary must hold a verdict and real numbers for every claim; the noise rule
// is checked on hand-made values.
#include <cmath>
#include <filesystem>
#include <set>

#include "research/claims.h"
#include "tests/research/research_test_util.h"

using namespace mone::research_testing;
namespace fs = std::filesystem;

namespace {

const nlohmann::json& setting(const nlohmann::json& summary, const std::string& name) {
  for (const auto& s : summary["settings"]) {
    if (s["name"] == name) return s;
  }
  FAIL("no setting " << name);
  static const nlohmann::json none;
  return none;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("the noise rule: a difference counts only beyond the larger seed spread") {
  mone::research::SeedValues a{{2.0, 2.2}}, b{{2.5, 2.6}}, c{{2.1, 2.3}};
  CHECK(a.mean() == doctest::Approx(2.1));
  CHECK(a.spread() == doctest::Approx(0.2));
  const auto ab = mone::research::compare(a, b);
  CHECK(ab.difference == doctest::Approx(-0.45));
  CHECK(ab.relative == doctest::Approx(-0.45 / 2.55));
  CHECK(ab.noise == doctest::Approx(0.2));
  CHECK(ab.beyond_noise());
  const auto ac = mone::research::compare(a, c);  // 0.1 apart, spreads 0.2: noise
  CHECK(ac.difference == doctest::Approx(-0.1));
  CHECK_FALSE(ac.beyond_noise());
  CHECK(mone::research::SeedValues{{3.0}}.spread() == 0.0);
}

}  // TEST_SUITE("unit")

TEST_SUITE("e2e") {

TEST_CASE("scripts/reproduce.sh --quick trains every setting with two seeds and judges every claim") {
  mone_testing::TempDir dir;
  const CommandResult r = mone_testing::run_shell("cd '" + dir.path() + "' && MONE_BUILD_DIR='" +
                                                  std::string(MONE_BINARY_DIR) + "' bash '" +
                                                  std::string(MONE_SOURCE_DIR) + "/scripts/reproduce.sh' --quick --out runs/reproduce-quick");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const std::string study = dir.file("runs/reproduce-quick");
  for (const char* f : {"summary.md", "summary.json", "sweep.svg", "report.html"}) {
    CHECK_MESSAGE(fs::exists(study + "/" + f), f);
  }
  const nlohmann::json summary = nlohmann::json::parse(read_text(study + "/summary.json"));

  // Ten settings, two seeds each, with finite CE below the untrained ln(512) = 6.24.
  REQUIRE(summary["settings"].size() == 10);
  for (const auto& s : summary["settings"]) {
    INFO(s["name"]);
    REQUIRE(s["ce"]["values"].size() == 2);
    CHECK(s["eval_tokens"] == 4 * 8 * 32);  // --eval-batches 4 of 8 x 32 for every run
    for (double ce : s["ce"]["values"]) {
      CHECK(std::isfinite(ce));
      CHECK(ce > 1.0);
      CHECK(ce < std::log(512.0));
    }
    CHECK(s["ce"]["values"][0] != s["ce"]["values"][1]);  // the seeds differ
  }
  // The settings are what their names say.
  CHECK(setting(summary, "moe")["ffn_type"] == "MOE");
  CHECK(setting(summary, "mone")["neuron_topk"] == 8);
  CHECK(setting(summary, "moe_same_activated")["experts_per_token"] == 1);
  CHECK(setting(summary, "moe_same_activated")["activated_params"] == setting(summary, "mone")["activated_params"]);
  CHECK(setting(summary, "mone")["total_params"] == setting(summary, "moe")["total_params"]);
  CHECK(setting(summary, "mone_no_nglbl")["neuron_aux_loss_coef"] == 0.0);
  CHECK(setting(summary, "mone_signed_gate")["selector"] == "signed_gate");
  // The sweep keeps the activated parameters within 1% of the MoE's.
  const double budget = setting(summary, "moe")["activated_params"];
  for (const char* s : {"sweep_k3", "sweep_k4", "sweep_k5"}) {
    CHECK(std::abs(setting(summary, s)["activated_params"].get<double>() - budget) <= 0.01 * budget);
  }
  // The MoE's sparsification: keep 1 is its eval CE exactly.
  const auto& sparsify = setting(summary, "moe")["sparsify"];
  REQUIRE(sparsify.size() == 7);
  CHECK(sparsify[0]["keep"] == 1.0);
  CHECK(sparsify[0]["ce"]["values"] == setting(summary, "moe")["ce"]["values"]);

  // Every claim has a verdict, never "not run", and its evidence carries numbers.
  std::set<std::string> ids;
  for (const auto& c : summary["claims"]) {
    INFO(c["id"]);
    ids.insert(c["id"]);
    const std::string v = c["verdict"];
    CHECK((v == "held" || v == "did not hold" || v == "noise"));
    CHECK(c["evidence"].get<std::string>().find_first_of("0123456789") != std::string::npos);
  }
  CHECK(ids == std::set<std::string>{"pruning", "equal_total", "equal_activated", "ng_lbl"});
  CHECK(summary["selectors"].size() == 3);
  CHECK(summary["sweep"].get<std::string>().find("K = ") != std::string::npos);

  // The markdown states the same verdicts; the sweep chart holds the four budget splits.
  const std::string md = read_text(study + "/summary.md");
  CHECK(md.find("| MoNE beats MoE at equal activated parameters | **") != std::string::npos);
  CHECK(md.find("not run") == std::string::npos);
  const auto svg = read_svg(study + "/sweep.svg");
  bool mean_series = false;
  for (const auto* g : svg.with_class("series")) {
    if (g->attr("data-name") == "seed mean") {
      mean_series = true;
      CHECK(g->attr("data-x") == "2 3 4 5");
    }
  }
  CHECK(mean_series);

  // Started again, it trains nothing and writes the same verdicts.
  const CommandResult again = mone_testing::run_shell("cd '" + dir.path() + "' && MONE_BUILD_DIR='" +
                                                      std::string(MONE_BINARY_DIR) + "' bash '" +
                                                      std::string(MONE_SOURCE_DIR) + "/scripts/reproduce.sh' --quick --out runs/reproduce-quick");
  REQUIRE_MESSAGE(again.exit_code == 0, again.output);
  CHECK(again.output.find("mone seed 2: done before") != std::string::npos);
  CHECK(nlohmann::json::parse(read_text(study + "/summary.json"))["claims"] == summary["claims"]);
}

TEST_CASE("mone claims: a directory without runs is an error naming it") {
  mone_testing::TempDir dir;
  const CommandResult r = run_mone("claims " + dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.output.find(dir.path() + "/runs: no such directory") != std::string::npos);
}

}  // TEST_SUITE("e2e")

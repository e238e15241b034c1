// mone sparsify on tiny MoE and MoNE checkpoints: keep 1 is `mone eval` to the last bit, a ratio
// below 1 is the MoNE that keeps round(keep · K_N) neurons (evaluated as eval evaluates it), the
// files it writes hold the table's numbers, and bad input is an error naming the flag.
#include <doctest/doctest.h>

#include "research/sparsify.h"
#include "tests/research/research_test_util.h"
#include "train/evaluate.h"

using namespace mone;
using namespace mone::research_testing;

TEST_SUITE("e2e") {

TEST_CASE("sparsify: keep 1 reproduces mone eval exactly, on a MoE and on a MoNE") {
  for (const char* ffn : {"MOE", "MONE"}) {
    CAPTURE(ffn);
    const std::string dir = tiny_run(ffn);
    const nlohmann::json eval = run_json("eval" + tool_flags(dir, 3) + " --json");
    const nlohmann::json sp = run_json("sparsify" + tool_flags(dir, 3) + " --keep 1,0.5,0.25 --json");
    REQUIRE(sp["points"].size() == 3);
    CHECK(sp["points"][0]["loss"].get<double>() == eval["loss"].get<double>());
    CHECK(sp["points"][0]["perplexity"].get<double>() == eval["perplexity"].get<double>());
    CHECK(sp["points"][0]["total_loss"].get<double>() == eval["total_loss"].get<double>());
    CHECK(sp["tokens"] == eval["tokens"]);
    const int64_t k_n = std::string(ffn) == "MOE" ? 32 : 8;  // D for the MoE
    CHECK(sp["neuron_topk"] == k_n);
    CHECK(sp["points"][1]["neuron_topk"] == k_n / 2);
    CHECK(sp["points"][2]["neuron_topk"] == k_n / 4);
    CHECK(sp["points"][1]["shared_neuron_topk"] == 32);  // shared experts untouched without --shared
    // Fewer neurons change the loss (the tiny model is not yet sparse enough to keep it).
    CHECK(sp["points"][2]["loss"].get<double>() != sp["points"][0]["loss"].get<double>());
  }
}

TEST_CASE("sparsify: a ratio is the MoNE with that K_N, evaluated on eval's batches") {
  const std::string dir = tiny_run("MOE");
  research::EvalInputOptions o;
  o.checkpoint = dir + "/run";
  o.data = {dir + "/data"};
  o.batches = 2;
  auto input = research::EvalInput::open(o);
  REQUIRE(input.ok());
  research::SparsifyOptions so;
  so.keep = {0.4};
  so.selector = proto::ModelSpec::SIGNED_GATE;
  so.shared = true;
  auto r = research::run_sparsify(*input, so);
  REQUIRE(r.ok());
  REQUIRE(r->points.size() == 1);
  CHECK(r->selector == "signed_gate");
  CHECK(r->points[0].neuron_topk == 13);          // round(0.4 · 32)
  CHECK(r->points[0].shared_neuron_topk == 13);   // the shared expert's 32 too
  // The same model built by hand.
  auto model = input->load_variant([](proto::ModelSpec& s) {
    s.set_ffn_type(proto::ModelSpec::MONE);
    s.set_neuron_topk(13);
    s.set_neuron_selector(proto::ModelSpec::SIGNED_GATE);
    s.set_shared_expert_neuron_topk(13);
  });
  REQUIRE(model.ok());
  auto e = train::evaluate(**model, input->reader(), 2);
  REQUIRE(e.ok());
  CHECK(r->points[0].ce == e->mean.ce);
  CHECK(r->tokens == 2 * 4 * 16);
}

TEST_CASE("sparsify --out: JSON, CSV and a plot holding the table's numbers") {
  const std::string dir = tiny_run("MOE");
  mone_testing::TempDir out;
  const nlohmann::json sp =
      run_json("sparsify" + tool_flags(dir, 3) + " --keep 1,0.6,0.2 --shared --json --out " + out.file("sp"));
  const nlohmann::json file = nlohmann::json::parse(read_text(out.file("sp/sparsify.json")));
  CHECK(file == sp);
  CHECK(sp["points"][1]["shared_neuron_topk"] == 19);  // round(0.6 · 32)
  const auto svg = read_svg(out.file("sp/sparsify_loss.svg"));
  const auto series = svg.with_class("series");
  REQUIRE(series.size() == 1);
  CHECK(mone_testing::numbers_of(series[0]->attr("data-x")) == std::vector<double>{1, 0.6, 0.2});
  const auto y = mone_testing::numbers_of(series[0]->attr("data-y"));
  REQUIRE(y.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(y[i] == doctest::Approx(sp["points"][i]["loss"].get<double>()).epsilon(1e-8));
  const std::string csv = read_text(out.file("sp/sparsify.csv"));
  CHECK(csv.rfind("keep,neuron_topk,shared_neuron_topk,loss,perplexity,total_loss\n1,32,32,", 0) == 0);
}

TEST_CASE("sparsify: bad flags and a dense checkpoint are errors naming what is wrong") {
  const std::string dir = tiny_run("MOE");
  CommandResult r = run_mone("sparsify" + tool_flags(dir, 3) + " --keep 1,0,0.5");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("--keep 1,0,0.5: \"0\" is not a kept fraction in (0, 1]") != std::string::npos);
  r = run_mone("sparsify" + tool_flags(dir, 3) + " --selector largest");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("--selector largest: expected one of abs_gate, signed_gate, abs_gate_times_up, "
                      "abs_gate_threshold") != std::string::npos);
  const std::string dense = tiny_run("DENSE");
  r = run_mone("sparsify" + tool_flags(dense, 3));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("sparsify needs routed experts") != std::string::npos);
}

}  // TEST_SUITE("e2e")

// mone eval --dtype f64: the checkpoint's f32 weights evaluated in double precision agree with
// the f32 evaluation to f32 precision wherever the two select the same experts and neurons, and
// --grads-out writes the gradients in f64.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/tape.h"
#include "research/eval_input.h"
#include "research/selections.h"
#include "tests/research/research_test_util.h"
#include "train/checkpoint/safetensors.h"

using namespace mone;
using namespace mone::research_testing;

namespace {

research::EvalInput open(const std::string& dir, DType dtype) { return open_tiny_input(dir, 4, dtype); }

bool same_selections(const models::ModelOutput& a, const models::ModelOutput& b) {
  for (size_t l = 0; l < a.layers.size(); ++l) {
    if (!a.layers[l].routed.defined()) continue;
    auto sa = research::read_selections(a.layers[l].routed, 2, false);
    auto sb = research::read_selections(b.layers[l].routed, 2, false);
    REQUIRE((sa.ok() && sb.ok()));
    if (sa->token != sb->token || sa->offsets != sb->offsets || sa->idx != sb->idx) return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("f64 evaluation agrees with f32 to f32 precision wherever the selections agree") {
  const std::string dir = tiny_run("MONE");
  const research::EvalInput f32 = open(dir, DType::kF32), f64 = open(dir, DType::kF64);
  CHECK(f64.model().parameters().front().param.dtype() == DType::kF64);
  autograd::NoGradGuard no_grad;
  int agreeing = 0;
  for (int64_t j = 0; j < f32.batches(); ++j) {
    auto b = f32.batch(j);
    REQUIRE(b.ok());
    auto o32 = f32.model().forward(b->ids, b->targets, nullptr, true);
    auto o64 = f64.model().forward(b->ids, b->targets, nullptr, true);
    REQUIRE((o32.ok() && o64.ok()));
    if (!same_selections(*o32, *o64)) continue;
    ++agreeing;
    for (const auto& [x, y] : {std::pair{o32->ce, o64->ce}, {o32->loss, o64->loss}, {o32->neuron_loss, o64->neuron_loss}}) {
      const double a = x.value().item(), e = y.value().item();
      CHECK_MESSAGE(std::abs(a - e) <= 2e-6 * std::abs(e), "batch ", j, ": f32 ", a, " vs f64 ", e);
    }
  }
  CHECK(agreeing >= 3);  // this tiny model's selections are far from ties in all but rare batches

  // The CLI: the same numbers, the dtype said, and the gradients written in f64.
  mone_testing::TempDir out;
  const std::string flags = tool_flags(dir, 4) + " --json";
  const nlohmann::json e32 = run_json("eval" + flags);
  const nlohmann::json e64 = run_json("eval" + flags + " --dtype f64 --grads-out " + out.file("g.safetensors"));
  CHECK(e32["dtype"] == "f32");
  CHECK(e64["dtype"] == "f64");
  CHECK(e64["loss"].get<double>() == doctest::Approx(e32["loss"].get<double>()).epsilon(2e-6));
  CHECK(e64["loss"].get<double>() != e32["loss"].get<double>());  // it did compute in another precision
  auto grads = train::read_safetensors(out.file("g.safetensors"));
  REQUIRE(grads.ok());
  CHECK(grads->tensors.at("lm_head.weight").dtype() == DType::kF64);
  CHECK(run_mone("eval" + flags + " --dtype f16").exit_code != 0);
}

}  // TEST_SUITE("e2e")

// The research tools' --device flag (eval, analyze, sparsify and gradstudy share it through
// cli/eval_flags.h and research::EvalInputOptions::device).
//  - e2e: --device cpu is the default, bit for bit; --device cuda with --dtype f64 is refused by
//    every one of them, before the GPU is looked for, with the reason and the way out.
//  - cuda: analyze, sparsify and gradstudy with the model on the GPU give the CPU's numbers, in
//    this process (the GPU machine runs the test binaries from a bundle, without the mone binary):
//    the same routing and neuron use, losses to 1e-4, gradient norms and cosines to 1e-3 (f32 on
//    two devices: sums in another order, and a rare tie at a top-k boundary broken the other way).
//    Without a GPU each case says so and returns.
#include <doctest/doctest.h>

#include <cmath>

#include "research/analyze.h"
#include "research/gradstudy.h"
#include "research/sparsify.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/research/research_test_util.h"
#include "train/train_spec.h"
#include "train/trainer.h"

using namespace mone;
using namespace mone::research_testing;

namespace {

bool near(double a, double b, double relative) { return std::abs(a - b) <= relative * std::max(1.0, std::abs(a)); }

// A tiny run of `ffn` trained here, in this process, on the CPU; its directory holds run/ and data/.
void train_tiny_here(const std::string& dir, const std::string& ffn) {
  const std::string spec_path = train::trainer_testing::write_tiny_setup(dir, "eval_interval: 0\n", ffn);
  proto::TrainSpec spec = value_or_die(train::load_train_spec(spec_path));
  train::TrainOptions o;
  o.source = spec_path;
  o.log = nullptr;
  StatusOr<train::TrainSummary> r = train::run_training(spec, o);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("--device: cpu is the default, bit for bit; cuda with --dtype f64 is refused by every evaluating command") {
  const std::string dir = tiny_run("MONE");
  const nlohmann::json plain = run_json("eval" + tool_flags(dir, 2) + " --json");
  const nlohmann::json cpu = run_json("eval" + tool_flags(dir, 2) + " --device cpu --json");
  CHECK(plain["loss"].get<double>() == cpu["loss"].get<double>());
  const nlohmann::json a = run_json("analyze" + tool_flags(dir, 2) + " --json");
  const nlohmann::json a_cpu = run_json("analyze" + tool_flags(dir, 2) + " --device cpu --json");
  CHECK(a == a_cpu);
  for (const char* command : {"eval", "analyze", "sparsify --keep 1", "gradstudy"}) {
    CAPTURE(command);
    const CommandResult r = run_mone(std::string(command) + tool_flags(dir, 2) + " --dtype f64 --device cuda");
    CHECK(r.exit_code != 0);
    // Refused before the GPU is looked for: the same reason with a GPU or without.
    CHECK_MESSAGE(r.output.find("--dtype f64 with --device cuda: the CUDA kernels compute in f32") != std::string::npos,
                  r.output);
  }
  const CommandResult bad = run_mone("analyze" + tool_flags(dir, 2) + " --device tpu");
  CHECK(bad.exit_code != 0);
  CHECK(bad.output.find("--device") != std::string::npos);
}

}  // TEST_SUITE("e2e")

TEST_SUITE("cuda") {

TEST_CASE("cuda: analyze, sparsify and gradstudy with the model on the GPU give the CPU's numbers (MoE, MoNE)") {
  if (cuda_test::skip_without_gpu()) return;
  for (const std::string ffn : {"MOE", "MONE"}) {
    CAPTURE(ffn);
    mone_testing::TempDir dir;
    train_tiny_here(dir.path(), ffn);
    const research::EvalInput cpu = open_tiny_input(dir.path(), 2);
    const research::EvalInput gpu = open_tiny_input(dir.path(), 2, DType::kF32, Device::cuda(0));

    const research::AnalysisResult ac = value_or_die(research::run_analyze(cpu, {}));
    const research::AnalysisResult ag = value_or_die(research::run_analyze(gpu, {}));
    REQUIRE(ac.layers.size() == ag.layers.size());
    CHECK(ac.tokens == ag.tokens);
    int64_t moved = 0, routed = 0, used_c = 0, used_g = 0;
    for (size_t l = 0; l < ac.layers.size(); ++l) {
      REQUIRE(ac.layers[l].experts.size() == ag.layers[l].experts.size());
      for (size_t e = 0; e < ac.layers[l].experts.size(); ++e) {
        moved += std::abs(ac.layers[l].experts[e].tokens - ag.layers[l].experts[e].tokens);
        routed += ac.layers[l].experts[e].tokens;
        used_c += ac.layers[l].experts[e].used;
        used_g += ag.layers[l].experts[e].used;
      }
    }
    CHECK(moved <= routed / 100);  // the same routing, up to a rare tie
    CHECK(std::abs(used_c - used_g) <= used_c / 100);

    research::SparsifyOptions so;
    so.keep = {1, 0.5};
    const research::SparsifyResult sc = value_or_die(research::run_sparsify(cpu, so));
    const research::SparsifyResult sg = value_or_die(research::run_sparsify(gpu, so));
    REQUIRE(sc.points.size() == sg.points.size());
    for (size_t i = 0; i < sc.points.size(); ++i) {
      CHECK(near(sc.points[i].ce, sg.points[i].ce, 1e-4));
      CHECK(near(sc.points[i].total_loss, sg.points[i].total_loss, 1e-4));
    }

    const research::GradstudyResult gc = value_or_die(research::run_gradstudy(cpu, {}));
    const research::GradstudyResult gg = value_or_die(research::run_gradstudy(gpu, {}));
    CHECK(near(gc.loss_value, gg.loss_value, 1e-4));
    REQUIRE(gc.groups.size() == gg.groups.size());
    for (size_t i = 0; i < gc.groups.size(); ++i) {
      CAPTURE(gc.groups[i].group);
      CHECK(near(gc.groups[i].norm_hard, gg.groups[i].norm_hard, 1e-3));
      CHECK(near(gc.groups[i].norm_dense, gg.groups[i].norm_dense, 1e-3));
      CHECK(std::abs(gc.groups[i].cos_hard_dense - gg.groups[i].cos_hard_dense) <= 1e-3);
    }
  }
}

}  // TEST_SUITE("cuda")

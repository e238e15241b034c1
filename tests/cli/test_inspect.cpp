// `mone inspect`, run as a user runs it: the built binary, its stdout/stderr and exit code.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "models/spec_stats.h"
#include "tests/run_mone.h"
#include "tests/temp_dir.h"

namespace {

using RunResult = mone_testing::CommandResult;
using mone_testing::run_mone;

std::string config(const std::string& name) {
  return std::string(MONE_SOURCE_DIR) + "/configs/models/" + name + ".textproto";
}

using mone_testing::contains;

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("mone inspect --json prints mone-925m's numbers") {
    const RunResult r =
        run_mone("inspect " + config("mone_925m") + " --json --batch-size 2 --seq-len 1024");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const nlohmann::json j = nlohmann::json::parse(r.output);
    CHECK(j["name"] == "mone-925m");
    CHECK(j["ffn_type"] == "mone");
    CHECK(j["neuron_topk"] == 144);
    CHECK(j["total_params"] == 926073856);
    CHECK(j["embedding_params"] == 2 * 50304 * 1024);
    CHECK(j["activated_params"] == 289063936);
    CHECK(j["activated_params_non_embedding"] == 289063936 - 2 * 50304 * 1024);
    CHECK(j["params"]["routed_experts"] == 24LL * 16 * 3 * 1024 * 576);
    CHECK(j["batch_size"] == 2);
    CHECK(j["seq_len"] == 1024);
    // 6 x matmul weights + 6·L·T·d, matmul weights = activated - embed_tokens - norms.
    const double matmul = 289063936.0 - 50304.0 * 1024 - (24 * 2 * 1024 + 1024);
    CHECK(j["training_flops_per_token"].get<double>() ==
          doctest::Approx(6 * matmul + 6.0 * 24 * 1024 * 1024));
    CHECK(j["memory_bytes"]["f32"]["weights"].get<double>() == 4.0 * 926073856);
    CHECK(j["memory_bytes"]["bf16"]["weights"].get<double>() == 6.0 * 926073856);
    CHECK(j["memory_bytes"]["f32"]["activations"].get<double>() ==
          2 * j["memory_bytes"]["bf16"]["activations"].get<double>());
  }

  TEST_CASE("mone inspect prints a readable table") {
    const RunResult r = run_mone("inspect " + config("mone_2p81b"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(contains(r.output, "2815.1M"));
    CHECK(contains(r.output, "2815117312"));
    CHECK(contains(r.output, "activated per token"));
    CHECK(contains(r.output, "FLOPs per token"));
    CHECK(contains(r.output, "bf16"));
    const RunResult small = run_mone("inspect " + config("mone_925m"));
    CHECK(contains(small.output, "926.07M"));
  }

  TEST_CASE("mone inspect errors exit non-zero and say why") {
    const RunResult missing = run_mone("inspect /nonexistent/spec.textproto");
    CHECK(missing.exit_code != 0);
    CHECK(contains(missing.output, "mone inspect: /nonexistent/spec.textproto"));

    const RunResult bad_batch = run_mone("inspect " + config("tiny_mone") + " --batch-size 0");
    CHECK(bad_batch.exit_code == 2);  // a usage error
    CHECK(contains(bad_batch.output, "mone inspect: --batch-size: 0 is out of range: must be >= 1"));

    const RunResult long_seq = run_mone("inspect " + config("tiny_mone") + " --seq-len 4096");
    CHECK(long_seq.exit_code != 0);
    CHECK(contains(long_seq.output, "max_position_embeddings = 256"));

    const RunResult no_command = run_mone("");
    CHECK(no_command.exit_code != 0);
  }

  TEST_CASE("mone --help and mone inspect --help explain the commands") {
    const RunResult help = run_mone("--help");
    CHECK(help.exit_code == 0);
    CHECK(contains(help.output, "inspect"));
    CHECK(contains(help.output, "MoNE"));
    const RunResult inspect_help = run_mone("inspect --help");
    CHECK(inspect_help.exit_code == 0);
    CHECK(contains(inspect_help.output, "--batch-size"));
    CHECK(contains(inspect_help.output, "--seq-len"));
    CHECK(contains(inspect_help.output, "--json"));
  }

}  // TEST_SUITE

TEST_SUITE("unit") {
  TEST_CASE("mone inspect: STRAIGHT_THROUGH's extra dense term is in the FLOPs line as in the total") {
    mone_testing::TempDir dir;
    const std::string spec = dir.file("st.textproto");
    {
      std::ifstream in(config("tiny_mone"));
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      text.replace(text.find("neuron_topk_backward: HARD"), 26, "neuron_topk_backward: STRAIGHT_THROUGH");
      std::ofstream(spec) << text;
    }
    const RunResult json = run_mone("inspect " + spec + " --json --seq-len 64");
    REQUIRE_MESSAGE(json.exit_code == 0, json.output);
    const nlohmann::json j = nlohmann::json::parse(json.output);
    // tiny-mone: d 128, L 2, K 2, D 128, K_N 32: 8·d·(D − K_N)·K·L.
    const double extra = 8.0 * 128 * (128 - 32) * 2 * 2;
    CHECK(j["straight_through_flops_per_token"].get<double>() == extra);
    CHECK(j["training_flops_per_token"].get<double>() ==
          6.0 * j["activated_matmul_params"].get<double>() + 6.0 * 2 * 64 * 128 + extra);
    const RunResult table = run_mone("inspect " + spec + " --seq-len 64");
    REQUIRE(table.exit_code == 0);
    CHECK_MESSAGE(contains(table.output, "+ " + mone::models::format_flops(extra) + " straight-through"), table.output);
    // HARD has no such line.
    CHECK_FALSE(contains(run_mone("inspect " + config("tiny_mone")).output, "straight-through"));
  }
}

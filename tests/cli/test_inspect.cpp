// `mone inspect`, run as a user runs it: the built binary, its stdout/stderr and exit code.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/run_mone.h"

namespace {

using RunResult = mone_testing::CommandResult;
using mone_testing::run_mone;

std::string config(const std::string& name) {
  return std::string(MONE_SOURCE_DIR) + "/configs/models/" + name + ".textproto";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

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
    CHECK(bad_batch.exit_code != 0);
    CHECK(contains(bad_batch.output, "batch size 0"));

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

// `mone bench train` reports sane quantities (not speeds: no test depends on timing).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/run_mone.h"

using mone_testing::run_mone;

TEST_SUITE("unit") {

TEST_CASE("bench train reports throughput and a GEMM share between 0 and 1") {
  const std::string model = std::string(MONE_SOURCE_DIR) + "/configs/models/tiny_mone.textproto";
  auto r = run_mone("bench train --model " + model +
                    " --steps 2 --warmup 1 --batch-size 2 --seq-len 16 --threads 1 --peak-flops 1e11 --json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  auto j = nlohmann::json::parse(r.output);
  CHECK(j["tokens_per_s"].get<double>() > 0);
  CHECK(j["gemm_share"].get<double>() > 0);
  CHECK(j["gemm_share"].get<double>() <= 1.0);
  CHECK(j["forward_share"].get<double>() > 0);
  CHECK(j["forward_share"].get<double>() < 1.0);
  // MFU = FLOPs/token x tokens/s / peak, with the peak given.
  CHECK(j["mfu"].get<double>() ==
        doctest::Approx(j["flops_per_token"].get<double>() * j["tokens_per_s"].get<double>() / 1e11));
  auto bad = run_mone("bench train --model " + model + " --seq-len 100000");
  CHECK(bad.exit_code != 0);
  CHECK(bad.output.find("max_position_embeddings") != std::string::npos);
  CHECK(bad.output.find("mone bench train: --seq-len 100000") != std::string::npos);  // the name once
  CHECK(bad.output.find("bench train: bench train") == std::string::npos);
  auto none = run_mone("bench train");
  CHECK(none.exit_code != 0);
  CHECK(none.output.find("mone bench train") != std::string::npos);
}

}  // TEST_SUITE

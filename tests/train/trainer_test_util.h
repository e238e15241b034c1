// Helpers for the trainer tests: a temporary directory, tiny random shards and specs, and running
// the built `mone` binary.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/data/data_test_util.h"
#include "tests/run_mone.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpointing.h"
#include "train/data/shard.h"

namespace mone::train::trainer_testing {

// A self-cleaning temporary directory (the data tests' helper).
using ScratchDir = testing::TempDir;

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A shard of `count` ids drawn uniformly from [0, vocab) with std::mt19937(seed); a repeating
// pattern is mixed in so there is something to learn.
inline void write_random_shard(const std::string& path, int64_t count, int64_t vocab, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<uint32_t> tokens(count);
  for (int64_t i = 0; i < count; ++i) {
    tokens[i] = (i % 3 == 0) ? static_cast<uint32_t>(gen() % vocab) : static_cast<uint32_t>((tokens[i - 1] + 1) % vocab);
  }
  REQUIRE(write_shard(path, tokens, vocab).ok());
}

inline constexpr int64_t kTinyVocab = 64;

// A 2-layer MoNE with hidden size 32, vocab 64, 4 experts (K = 2) of width 32, K_N = 8, one
// shared expert: trains a step in a few milliseconds.
inline std::string tiny_model_text(const std::string& ffn = "MONE", int64_t neuron_topk = 8) {
  std::string text =
      "name: \"tiny-test\"\nvocab_size: 64\nhidden_size: 32\nnum_hidden_layers: 2\n"
      "num_attention_heads: 2\nmax_position_embeddings: 32\nffn_type: " + ffn + "\n";
  if (ffn == "DENSE") return text + "intermediate_size: 64\n";
  text += "num_experts: 4\nnum_experts_per_tok: 2\nmoe_intermediate_size: 32\nnum_shared_experts: 1\n";
  if (ffn == "MONE") text += "neuron_topk: " + std::to_string(neuron_topk) + "\n";
  return text;
}

// data/tiny_train_000.bin (6000 tokens), data/tiny_val_000.bin (2000), model.textproto and
// train.textproto (B 4, T 16, run_dir <dir>/run) inside dir. Each line of extra_train_fields
// ("field: value") replaces the default line of that field (a spec may not set a field twice).
// Returns the train spec's path.
inline std::string write_tiny_setup(const std::string& dir, const std::string& extra_train_fields = "",
                                    const std::string& ffn = "MONE") {
  std::filesystem::create_directories(dir + "/data");
  write_random_shard(dir + "/data/tiny_train_000.bin", 6000, kTinyVocab, 1);
  write_random_shard(dir + "/data/tiny_val_000.bin", 2000, kTinyVocab, 2);
  write_text(dir + "/model.textproto", tiny_model_text(ffn));
  const std::string spec = dir + "/train.textproto";
  const std::string defaults = "model_spec: \"" + dir + "/model.textproto\"\ntrain_data: \"" + dir + "/data\"\n" +
                               "val_data: \"" + dir + "/data\"\nrun_dir: \"" + dir + "/run\"\n" +
                               "batch_size: 4\nseq_len: 16\nsteps: 12\nwarmup_steps: 3\neval_interval: 4\n"
                               "eval_batches: 3\ncheckpoint_interval: 5\nlog_interval: 1\nthreads: 1\n"
                               "peak_flops: 1e11\n";
  auto field_of = [](const std::string& line) { return line.substr(0, line.find(':')); };
  std::istringstream extra_lines(extra_train_fields), default_lines(defaults);
  std::vector<std::string> overridden;
  for (std::string line; std::getline(extra_lines, line);) overridden.push_back(field_of(line));
  std::string text;
  for (std::string line; std::getline(default_lines, line);) {
    if (std::find(overridden.begin(), overridden.end(), field_of(line)) == overridden.end()) text += line + "\n";
  }
  write_text(spec, text + extra_train_fields);
  return spec;
}

using mone_testing::CommandResult;
using mone_testing::mone_binary;
using mone_testing::run_mone;

// metrics.jsonl's records without the fields that measure time (they differ between runs).
inline std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(path));
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    for (const char* k : {"tokens_per_s", "mfu", "elapsed_s"}) j.erase(k);
    out.push_back(std::move(j));
  }
  return out;
}

// Two safetensors files hold the same tensors, in the same order, bit for bit.
inline void require_same_tensors(const std::string& a_path, const std::string& b_path) {
  auto a = read_safetensors(a_path);
  auto b = read_safetensors(b_path);
  REQUIRE_MESSAGE(a.ok(), a.status().message());
  REQUIRE_MESSAGE(b.ok(), b.status().message());
  REQUIRE(a->names == b->names);
  for (const auto& name : a->names) {
    const Tensor& ta = a->tensors.at(name);
    const Tensor& tb = b->tensors.at(name);
    REQUIRE(ta.shape() == tb.shape());
    CHECK_MESSAGE(std::memcmp(ta.raw_data(), tb.raw_data(), ta.nbytes()) == 0, name, " differs");
  }
}

// Two runs that must have computed the same thing end alike at `step`: the same metrics (time
// fields aside), weights, AdamW moments and trainer state (except elapsed time and the train spec,
// which names each run's own directory). Returns the metrics for further checks.
inline std::vector<nlohmann::json> require_same_run(const std::string& a_run, const std::string& b_run, int64_t step) {
  const auto ma = read_metrics(a_run + "/metrics.jsonl");
  const auto mb = read_metrics(b_run + "/metrics.jsonl");
  REQUIRE_MESSAGE(mb.size() == ma.size(), read_text(b_run + "/metrics.jsonl"));
  for (size_t i = 0; i < ma.size(); ++i) CHECK_MESSAGE(ma[i] == mb[i], "line ", i, ": ", ma[i].dump(), " vs ", mb[i].dump());

  const std::string a = a_run + "/" + checkpoint_dir_name(step), b = b_run + "/" + checkpoint_dir_name(step);
  require_same_tensors(a + "/" + kModelFileName, b + "/" + kModelFileName);
  require_same_tensors(a + "/" + kOptimizerFileName, b + "/" + kOptimizerFileName);
  auto sa = read_trainer_state(a);
  auto sb = read_trainer_state(b);
  REQUIRE_MESSAGE(sa.ok(), sa.status().message());
  REQUIRE_MESSAGE(sb.ok(), sb.status().message());
  CHECK(sa->step == step);
  CHECK(sa->step == sb->step);
  CHECK(sa->optimizer_step == sb->optimizer_step);
  CHECK(sa->lr == sb->lr);
  CHECK(sa->data_position == sb->data_position);
  CHECK(sa->data_seed == sb->data_seed);
  CHECK(sa->rng_seed == sb->rng_seed);
  CHECK(sa->rng_offset == sb->rng_offset);
  CHECK(sa->consecutive_nonfinite == sb->consecutive_nonfinite);
  CHECK(sa->tokens_seen == sb->tokens_seen);
  CHECK(sa->model_spec_sha256 == sb->model_spec_sha256);
  return ma;
}

}  // namespace mone::train::trainer_testing

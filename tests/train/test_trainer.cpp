// run_training as a library, and `mone eval`: a signal stops the run with a checkpoint,
// non-finite steps are skipped and then stop the run, metrics lines hold every field, the loss
// falls, and `mone eval` agrees with the trainer's own evaluation.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>

#include "autograd/tape.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpointing.h"
#include "train/data/eval_reader.h"
#include "train/evaluate.h"
#include "train/optimizer.h"
#include "train/train_spec.h"
#include "train/trainer.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;

proto::TrainSpec load(const std::string& path) {
  auto spec = load_train_spec(path);
  REQUIRE(spec.ok());
  return *spec;
}

TrainOptions quiet() {
  TrainOptions o;
  o.log = nullptr;
  return o;
}

TEST_SUITE("unit") {
  TEST_CASE("configs/train: every shipped train spec loads and resolves with its model") {
    for (const char* name : {"tiny_mone", "tiny_moe", "tiny_dense"}) {
      const std::string path = std::string(MONE_SOURCE_DIR) + "/configs/train/" + name + ".textproto";
      proto::TrainSpec spec = load(path);
      CHECK(spec.model_spec() == std::string("../models/") + name + ".textproto");  // beside the spec
      spec.set_train_data(std::string(MONE_SOURCE_DIR) + "/tests/data");  // data/fortunes is made by scripts/demo.sh
      spec.set_val_data(spec.train_data());
      const Status s = resolve_train_spec(spec, path, std::string(MONE_SOURCE_DIR) + "/configs/train");
      CHECK_MESSAGE(s.ok(), s.message());
      CHECK(spec.batch_size() == 16);
      CHECK(spec.seq_len() == 64);
      CHECK(total_training_steps(spec) == 300);
      CHECK(spec.model().vocab_size() == 1024);
    }
  }

  TEST_CASE("total_training_steps: steps, or the token budget over tokens per step") {
    proto::TrainSpec spec;
    spec.set_steps(7);
    CHECK(total_training_steps(spec) == 7);
    spec.set_steps(0);
    spec.set_batch_size(4);
    spec.set_seq_len(16);
    spec.set_grad_accum_steps(2);
    spec.set_token_budget(1280);  // 10 steps of 128 tokens
    CHECK(total_training_steps(spec) == 10);
    spec.set_batch_size(int64_t{1} << 62);  // an unvalidated spec (`mone runs`): no overflow, one step
    CHECK(total_training_steps(spec) == 1);
  }

  TEST_CASE("resolve_train_spec: more than 2^40 tokens per step is an error naming the sizes") {
    const std::string dir = std::string(MONE_SOURCE_DIR) + "/configs/train", path = dir + "/tiny_mone.textproto";
    proto::TrainSpec spec = load(path);
    spec.set_train_data(std::string(MONE_SOURCE_DIR) + "/tests/data");  // data/fortunes is made by scripts/demo.sh
    spec.set_val_data(spec.train_data());
    const auto resolve = [&](int64_t batch_size) {
      proto::TrainSpec s = spec;
      s.set_batch_size(batch_size);
      return resolve_train_spec(s, path, dir);
    };
    const Status s = resolve(int64_t{1} << 62);  // × seq_len 64 overflows int64 (found by fuzz_train_spec)
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_MESSAGE(s.message().find(path + ": batch_size × seq_len × grad_accum_steps = 4611686018427387904 × 64 × 1") !=
                      std::string::npos, s.message());
    const Status largest = resolve(int64_t{1} << 34);  // 2^40 tokens: the largest step allowed
    CHECK_MESSAGE(largest.ok(), largest.message());
    const Status over = resolve((int64_t{1} << 34) + 1);
    CHECK_MESSAGE(over.message().find("more than mone handles (2^40)") != std::string::npos, over.message());
  }

  TEST_CASE("run_training: SIGINT stops at the end of the step with a checkpoint") {
    ScratchDir dir;
    proto::TrainSpec spec = load(write_tiny_setup(dir.path(), "eval_interval: 0\n"));
    TrainOptions o = quiet();
    o.stop_requested = [](int64_t step) {
      if (step == 3) std::raise(SIGINT);  // the handler only sets a flag
      return false;
    };
    auto summary = run_training(spec, o);
    REQUIRE_MESSAGE(summary.ok(), summary.status().message());
    CHECK(summary->stopped_early);
    CHECK(summary->final_step == 3);
    CHECK(summary->last_checkpoint == dir.file("run/step_00000003"));
    auto state = read_trainer_state(summary->last_checkpoint);
    REQUIRE(state.ok());
    CHECK(state->step == 3);
    CHECK(state->data_position == 3);
  }

  TEST_CASE("run_training: metrics lines hold every term, and the loss falls") {
    ScratchDir dir;
    proto::TrainSpec spec = load(write_tiny_setup(dir.path(), "steps: 40\neval_interval: 20\nlr: 0.01\n"));
    auto summary = run_training(spec, quiet());
    REQUIRE_MESSAGE(summary.ok(), summary.status().message());
    CHECK_FALSE(summary->stopped_early);
    CHECK(summary->final_step == 40);
    REQUIRE(summary->val_losses.size() == 3);  // steps 0, 20, 40
    // Two of every three tokens follow from the previous one: a tiny model learns that quickly.
    CHECK(summary->val_losses.back().second < summary->val_losses.front().second - 0.3);

    const auto m = read_metrics(dir.file("run/metrics.jsonl"));
    REQUIRE(m.size() == 43);
    const nlohmann::json& line = m[1];
    CHECK(line["step"] == 1);
    for (const char* k : {"lr", "loss", "ce", "load_balance", "z_loss", "neuron_loss", "grad_norm", "tokens"}) {
      CHECK_MESSAGE(line.contains(k), k);
    }
    CHECK(line["lr"].get<double>() == doctest::Approx(spec.lr() / 3));  // warmup step 1 of 3
    CHECK(line["loss"].get<double>() > line["ce"].get<double>());       // aux terms are added
    // expert_load: per layer, tokens per expert sum to N·K = 64·2 over the step.
    REQUIRE(line["expert_load"].size() == 2);
    int64_t routed = 0;
    for (const auto& n : line["expert_load"][0]) routed += n.get<int64_t>();
    CHECK(routed == 128);
    CHECK(line["neuron_load"][0]["mean_rate"].get<double>() == doctest::Approx(8.0 / 32.0));
    CHECK(m[0]["val_loss"].is_number());
  }

  TEST_CASE("run_training: non-finite steps are skipped, then the run stops with a clear message") {
    ScratchDir dir;
    // lr 1e30 sends the weights to ±1e30 after one step; every later loss is inf or NaN.
    proto::TrainSpec spec = load(write_tiny_setup(
        dir.path(), "lr: 1e30\nwarmup_steps: 0\nmax_nonfinite_steps: 3\neval_interval: 0\nmodel_spec: \"" +
                        dir.file("dense.textproto") + "\"\n"));
    write_text(dir.file("dense.textproto"), tiny_model_text("DENSE"));
    auto summary = run_training(spec, quiet());
    REQUIRE_FALSE(summary.ok());
    const std::string msg(summary.status().message());
    CHECK(msg.find("3 consecutive steps") != std::string::npos);
    CHECK(msg.find("max_nonfinite_steps") != std::string::npos);
    const auto m = read_metrics(dir.file("run/metrics.jsonl"));
    REQUIRE(m.size() == 4);  // one good step, three skipped
    CHECK(m[0]["skipped"] == false);
    for (int i = 1; i < 4; ++i) CHECK(m[i]["skipped"] == true);
  }

  TEST_CASE("mone eval agrees with the trainer's evaluation and writes averaged gradients") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 4\n");
    REQUIRE(run_mone("train --config " + spec).exit_code == 0);
    const auto m = read_metrics(dir.file("run/metrics.jsonl"));
    const double trainer_val = m.back()["val_loss"].get<double>();  // step 4: 3 batches of 4 × 16

    CommandResult r = run_mone("eval --checkpoint " + dir.file("run") + " --data " + dir.file("data") +
                               " --batches 3 --threads 1 --json --grads-out " + dir.file("grads.safetensors"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const nlohmann::json out = nlohmann::json::parse(r.output);
    CHECK(out["loss"].get<double>() == trainer_val);  // same batches, same arithmetic
    CHECK(out["seq_len"] == 16);                       // as trained
    CHECK(out["tokens"] == 3 * 4 * 16);
    CHECK(out["perplexity"].get<double>() == doctest::Approx(std::exp(trainer_val)));

    // The gradient file: every parameter, averaged over the batches. Recompute it batch by batch.
    auto grads = read_safetensors(dir.file("grads.safetensors"));
    REQUIRE(grads.ok());
    std::string ckpt;
    auto model = load_model_from_checkpoint(dir.file("run"), &ckpt);
    REQUIRE(model.ok());
    models::ParameterList params = (*model)->parameters();
    REQUIRE(grads->names.size() == models::checkpoint_tensors(params).size());  // experts one by one
    auto reader = EvalReader::open({dir.file("data/tiny_val_000.bin")}, 4, 16);
    REQUIRE(reader.ok());
    std::vector<int32_t> in(64), tg(64);
    for (int64_t j = 0; j < 3; ++j) {
      REQUIRE(reader->read(j, in.data(), tg.data()).ok());
      auto o = (*model)->forward(*Tensor::from_vector(in, {4, 16}), *Tensor::from_vector(tg, {4, 16}));
      REQUIRE(o.ok());
      REQUIRE(backward_mean(o->loss, 3).ok());
    }
    std::vector<Tensor> want_grads;
    for (const auto& p : params) {
      want_grads.push_back(p.param.has_grad() ? p.param.grad() : *Tensor::zeros_like(p.param.value()));
    }
    for (const auto& named : models::checkpoint_tensors(params, want_grads)) {
      const std::string& name = named.first;  // not a structured binding: CHECK_MESSAGE is a lambda (clang 14)
      const Tensor& want_tensor = named.second;
      const auto want = want_tensor.to_vector<double>();
      const auto got = grads->tensors.at(name).to_vector<double>();
      REQUIRE(got.size() == want.size());
      // This process may use another thread count than `mone eval`: equal up to float rounding.
      double max_diff = 0, max_abs = 0;
      for (size_t k = 0; k < got.size(); ++k) {
        max_diff = std::max(max_diff, std::abs(got[k] - want[k]));
        max_abs = std::max(max_abs, std::abs(want[k]));
      }
      CHECK_MESSAGE(max_diff <= 1e-5 * std::max(max_abs, 1e-3), name);
    }
    CHECK(grads->metadata.at("batches") == "3");
  }
}

}  // namespace
}  // namespace mone::train

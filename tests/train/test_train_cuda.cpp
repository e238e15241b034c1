// Training on the GPU (`--device cuda`) against the CPU, end to end through run_training and the
// checkpoint files: 50 steps of tiny dense, MoE and MoNE models follow the CPU's losses to 1e-3;
// two GPU runs are identical bit for bit, and so is a GPU run resumed halfway; a checkpoint
// written on one device loads on the other bit for bit (f32 masters and AdamW moments, the
// stacked experts through their per-expert views); bf16 mixed precision trains, near f32; a
// forward and backward read back one offsets copy per routed layer and the targets, nothing else.
//
// Without a GPU each case says so and returns (the CPU-side checks of the same machinery are in
// tests/models/test_device.cpp and tests/train/test_precision.cpp). The MoE and MoNE cases need
// the CUDA MoE kernels (router, dispatch, mone_ffn, losses); without them those cases fail with
// the ops' "no kernel for device cuda:0" Status.
// Shape letters: B batch, T sequence.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/tape.h"
#include "core/cuda_memory.h"
#include "models/transformer.h"
#include "models/spec.h"
#include "tests/cuda/cuda_test_util.h"
#include "train/checkpointing.h"
#include "train/machine.h"
#include "train/optimizer.h"
#include "train/train_spec.h"
#include "train/trainer.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;
using cuda_test::bitwise_equal;
using cuda_test::skip_without_gpu;

const std::vector<std::string> kFamilies = {"DENSE", "MOE", "MONE"};

// Trains the spec at spec_path in this process, on `device` in `precision`, into run_dir.
TrainSummary train_here(const std::string& spec_path, const std::string& run_dir, const std::string& device,
                        proto::TrainSpec::Precision precision = proto::TrainSpec::F32, int64_t stop_after = 0,
                        bool resume = false) {
  proto::TrainSpec spec = value_or_die(load_train_spec(spec_path));
  spec.set_run_dir(run_dir);
  spec.set_device(device);
  spec.set_precision(precision);
  TrainOptions o;
  o.source = spec_path;
  o.log = nullptr;
  o.stop_after_step = stop_after;
  o.resume = resume;
  StatusOr<TrainSummary> r = run_training(spec, o);
  REQUIRE_MESSAGE(r.ok(), device, ": ", r.status().message());
  return *r;
}

// metrics.jsonl's records without the time and the process-wide memory fields.
std::vector<nlohmann::json> records(const std::string& run_dir) {
  std::vector<nlohmann::json> out = read_metrics(run_dir + "/metrics.jsonl");
  for (auto& j : out) {
    j.erase("cuda_memory_bytes");
    j.erase("cuda_peak_memory_bytes");
  }
  return out;
}

// The training loss of every logged step, in order.
std::vector<double> step_losses(const std::string& run_dir) {
  std::vector<double> out;
  for (const auto& j : records(run_dir)) {
    if (j.contains("loss")) out.push_back(j["loss"].get<double>());
  }
  return out;
}

// 50 steps, no evaluation, one checkpoint at the end.
std::string fifty_step_setup(const std::string& dir, const std::string& ffn) {
  return write_tiny_setup(dir, "steps: 50\neval_interval: 0\ncheckpoint_interval: 0\n", ffn);
}

}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("cuda: 50 training steps of tiny dense, MoE and MoNE models on the GPU follow the CPU's losses to 1e-3") {
  if (skip_without_gpu()) return;
  for (const std::string& ffn : kFamilies) {
    CAPTURE(ffn);
    ScratchDir dir;
    const std::string spec = fifty_step_setup(dir.path(), ffn);
    train_here(spec, dir.file("cpu"), "cpu");
    const TrainSummary gpu = train_here(spec, dir.file("gpu"), "cuda");
    CHECK(gpu.skipped_steps == 0);
    const std::vector<double> want = step_losses(dir.file("cpu")), got = step_losses(dir.file("gpu"));
    REQUIRE(want.size() == 50);
    REQUIRE(got.size() == 50);
    double worst = 0;
    for (size_t i = 0; i < 50; ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
    CHECK_MESSAGE(worst <= 1e-3, "largest |GPU - CPU| loss difference over 50 steps: ", worst);
    CHECK(want.back() < want.front() - 0.1);  // it trained: the comparison is not of two flat lines
    // The GPU records carry the caching allocator's statistics.
    const auto raw = read_metrics(dir.file("gpu/metrics.jsonl"));
    REQUIRE(raw.back().contains("cuda_memory_bytes"));
    CHECK(raw.back()["cuda_memory_bytes"].get<int64_t>() > 0);
    CHECK(raw.back()["cuda_peak_memory_bytes"].get<int64_t>() >= raw.back()["cuda_memory_bytes"].get<int64_t>());
  }
}

TEST_CASE("cuda: two GPU runs, and a GPU run stopped and resumed halfway, are identical bit for bit") {
  if (skip_without_gpu()) return;
  for (const std::string& ffn : kFamilies) {
    CAPTURE(ffn);
    ScratchDir dir;
    // Two micro-batches per step and evaluations: every path a step takes.
    const std::string spec = write_tiny_setup(dir.path(), "grad_accum_steps: 2\nsteps: 12\n", ffn);
    train_here(spec, dir.file("a"), "cuda");
    train_here(spec, dir.file("b"), "cuda");
    train_here(spec, dir.file("c"), "cuda", proto::TrainSpec::F32, 6);
    train_here(spec, dir.file("c"), "cuda", proto::TrainSpec::F32, 0, /*resume=*/true);
    const auto a = records(dir.file("a")), b = records(dir.file("b")), c = records(dir.file("c"));
    REQUIRE(a.size() == 16);  // 12 steps, evaluations at 0, 4, 8, 12
    REQUIRE(b.size() == a.size());
    REQUIRE(c.size() == a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK_MESSAGE(a[i] == b[i], "line ", i, ": ", a[i].dump(), " vs ", b[i].dump());
      CHECK_MESSAGE(a[i] == c[i], "line ", i, ": ", a[i].dump(), " vs resumed ", c[i].dump());
    }
    for (const char* run : {"b", "c"}) {
      require_same_tensors(dir.file("a/step_00000012/model.safetensors"),
                           dir.file(std::string(run) + "/step_00000012/model.safetensors"));
      require_same_tensors(dir.file("a/step_00000012/optimizer.safetensors"),
                           dir.file(std::string(run) + "/step_00000012/optimizer.safetensors"));
    }
  }
}

TEST_CASE("cuda: a checkpoint written on the CPU loads on the GPU, and back, bit for bit (dense, MoE, MoNE)") {
  if (skip_without_gpu()) return;
  for (const std::string& ffn : kFamilies) {
    CAPTURE(ffn);
    ScratchDir dir;
    const std::string spec_path = write_tiny_setup(dir.path(), "steps: 4\neval_interval: 0\n", ffn);
    train_here(spec_path, dir.file("cpu"), "cpu");  // nonzero weights, moments and step count
    const proto::ModelSpec spec = value_or_die(models::load_model_spec(dir.file("model.textproto")));
    const std::string from_cpu = dir.file("cpu/step_00000004");

    // CPU checkpoint -> a GPU model (drawn from another seed) and optimizer.
    auto gpu = value_or_die(models::Transformer::create(spec, 99));
    REQUIRE(gpu->to(Device::cuda()).ok());
    models::ParameterList gpu_params = gpu->parameters();
    AdamW gpu_opt = value_or_die(AdamW::create(gpu_params, OptimizerConfig{}));
    REQUIRE(gpu_opt.exp_avg()[0].device().is_cuda());
    const ResumePoint point = value_or_die(load_checkpoint_for_resume(dir.file("cpu"), spec, gpu_params, gpu_opt));
    CHECK(point.dir == from_cpu);
    // ... and the same model loaded on the CPU, for the reference.
    auto cpu = value_or_die(models::Transformer::create(spec, 77));
    models::ParameterList cpu_params = cpu->parameters();
    AdamW cpu_opt = value_or_die(AdamW::create(cpu_params, OptimizerConfig{}));
    REQUIRE(load_checkpoint_for_resume(dir.file("cpu"), spec, cpu_params, cpu_opt).ok());
    for (size_t i = 0; i < gpu_params.size(); ++i) {
      CAPTURE(gpu_params[i].name);
      CHECK(gpu_params[i].param.value().device().is_cuda());
      CHECK(bitwise_equal(gpu_params[i].param.value(), cpu_params[i].param.value()));
      CHECK(bitwise_equal(gpu_opt.exp_avg()[i], cpu_opt.exp_avg()[i]));
      CHECK(bitwise_equal(gpu_opt.exp_avg_sq()[i], cpu_opt.exp_avg_sq()[i]));
    }
    CHECK(gpu_opt.step_count() == cpu_opt.step_count());

    // GPU -> a checkpoint: the same files, bit for bit, as the CPU's (per-expert views included).
    TrainerState state = value_or_die(read_trainer_state(from_cpu));
    const std::string from_gpu = value_or_die(save_checkpoint(dir.file("gpu"), gpu_params, gpu_opt, state, spec, 0));
    require_same_tensors(from_cpu + "/model.safetensors", from_gpu + "/model.safetensors");
    require_same_tensors(from_cpu + "/optimizer.safetensors", from_gpu + "/optimizer.safetensors");
    // ... which a CPU model loads as it was.
    auto back = value_or_die(load_model_from_checkpoint(from_gpu));
    for (size_t i = 0; i < cpu_params.size(); ++i) {
      CHECK_MESSAGE(bitwise_equal(back->parameters()[i].param.value(), cpu_params[i].param.value()),
                    cpu_params[i].name);
    }
  }
}

TEST_CASE("cuda: a model trained on the GPU loads on the CPU bit for bit, and computes the same loss there") {
  if (skip_without_gpu()) return;
  for (const std::string& ffn : kFamilies) {
    CAPTURE(ffn);
    ScratchDir dir;
    const proto::ModelSpec spec = value_or_die(models::parse_model_spec(tiny_model_text(ffn), "<tiny>"));
    auto gpu = value_or_die(models::Transformer::create(spec, 5));
    REQUIRE(gpu->to(Device::cuda()).ok());
    models::ParameterList params = gpu->parameters();
    AdamW opt = value_or_die(AdamW::create(params, OptimizerConfig{}));
    std::vector<int64_t> ids(4 * 16), targets(4 * 16);
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = static_cast<int64_t>((i * 7 + 3) % kTinyVocab);
      targets[i] = static_cast<int64_t>((i * 5 + 1) % kTinyVocab);
    }
    const Tensor x = value_or_die(Tensor::from_vector(ids, {4, 16})), y = value_or_die(Tensor::from_vector(targets, {4, 16}));
    for (int step = 0; step < 3; ++step) {
      const models::ModelOutput out = value_or_die(gpu->forward(x, y));
      REQUIRE(autograd::backward(out.loss).ok());
      const double loss = cuda_test::to_cpu(out.loss.value()).item();
      REQUIRE(value_or_die(opt.step(params, 1e-2, loss)).applied);
    }
    TrainerState state;
    state.step = state.optimizer_step = opt.step_count();
    state.model_spec_text = models::model_spec_to_text(spec);
    const std::string written = value_or_die(save_checkpoint(dir.file("run"), params, opt, state, spec, 0));
    auto cpu = value_or_die(load_model_from_checkpoint(written));
    for (size_t i = 0; i < params.size(); ++i) {
      CHECK_MESSAGE(bitwise_equal(cpu->parameters()[i].param.value(), params[i].param.value()), params[i].name);
    }
    autograd::NoGradGuard no_grad;
    const double on_gpu = cuda_test::to_cpu(value_or_die(gpu->forward(x, y)).loss.value()).item();
    const double on_cpu = value_or_die(cpu->forward(x, y)).loss.value().item();
    CHECK(std::abs(on_gpu - on_cpu) <= 1e-5 * std::abs(on_cpu));
  }
}

TEST_CASE("cuda: a forward and backward on the GPU read back one offsets copy per routed layer and the targets once") {
  if (skip_without_gpu()) return;
  // Issue 8: at most one device-to-host copy of the expert counts per layer. The forward of each
  // routed layer reads its E + 1 offsets once (the GEMM sizes), and the backward reuses that copy
  // (MoneFfnForward::host_offsets); cross-entropy reads the targets once to count its rows. Token
  // ids and targets start on the host, so their checks read nothing back.
  const int64_t B = 2, T = 8;
  std::vector<int32_t> ids(B * T), targets(B * T);
  for (int64_t i = 0; i < B * T; ++i) {
    ids[i] = static_cast<int32_t>((7 * i + 3) % kTinyVocab);
    targets[i] = static_cast<int32_t>((5 * i + 1) % kTinyVocab);
  }
  const Tensor ids_t = value_or_die(Tensor::from_vector(ids, {B, T}));
  const Tensor targets_t = value_or_die(Tensor::from_vector(targets, {B, T}));
  for (const std::string& ffn : kFamilies) {
    for (const proto::TrainSpec::Precision precision : {proto::TrainSpec::F32, proto::TrainSpec::BF16}) {
      auto model = value_or_die(models::Transformer::create(value_or_die(models::parse_model_spec(
                                                                tiny_model_text(ffn), "<tiny>")),
                                                            5));
      REQUIRE(model->to(Device::cuda()).ok());
      REQUIRE(model->set_compute_dtype(compute_dtype(precision)).ok());
      const int64_t routed = ffn == "DENSE" ? 0 : model->spec().num_hidden_layers();
      for (int pass = 0; pass < 2; ++pass) {  // the second after the allocator has warmed up
        const int64_t before = cuda_memory::device_to_host_copies();
        const models::ModelOutput out = value_or_die(model->forward(ids_t, targets_t));
        REQUIRE(autograd::backward(out.loss).ok());
        const int64_t reads = cuda_memory::device_to_host_copies() - before;
        CHECK_MESSAGE(reads == routed + 1, ffn, " ", proto::TrainSpec::Precision_Name(precision), " pass ", pass,
                      ": ", reads, " device-to-host copies, expected ", routed + 1);
        autograd::current_tape().clear();
      }
    }
  }
}

TEST_CASE("cuda: bf16 mixed precision trains 50 steps near f32 (last 10 losses' mean within 0.05 nats)") {
  if (skip_without_gpu()) return;
  for (const std::string& ffn : kFamilies) {
    CAPTURE(ffn);
    ScratchDir dir;
    const std::string spec = fifty_step_setup(dir.path(), ffn);
    train_here(spec, dir.file("f32"), "cuda");
    const TrainSummary bf16 = train_here(spec, dir.file("bf16"), "cuda", proto::TrainSpec::BF16);
    CHECK(bf16.skipped_steps == 0);
    const std::vector<double> f = step_losses(dir.file("f32")), b = step_losses(dir.file("bf16"));
    REQUIRE(f.size() == 50);
    REQUIRE(b.size() == 50);
    double mean_f = 0, mean_b = 0, worst = 0;
    for (size_t i = 0; i < 50; ++i) {
      REQUIRE(std::isfinite(b[i]));
      worst = std::max(worst, std::abs(b[i] - f[i]));
      if (i >= 40) {
        mean_f += f[i] / 10;
        mean_b += b[i] / 10;
      }
    }
    MESSAGE(ffn, ": bf16 - f32 over the last 10 steps ", mean_b - mean_f, ", largest step difference ", worst);
    CHECK(std::abs(mean_b - mean_f) <= 0.05);
    CHECK(worst <= 0.15);
    CHECK(b.back() < b.front() - 0.1);  // bf16 trained too
    // The masters stay f32: the checkpoint holds f32 weights.
    const SafetensorsFile model = value_or_die(read_safetensors(dir.file("bf16/step_00000050/model.safetensors")));
    for (const auto& entry : model.tensors) CHECK_MESSAGE(entry.second.dtype() == DType::kF32, entry.first);
  }
}

}  // TEST_SUITE("cuda")

}  // namespace mone::train

// A model's device and precision, as far as the CPU can check them: Transformer::to (the identity
// on the CPU, a clean failure without a GPU), the refusal of bf16 on the CPU, and the host-side
// check of user token ids and targets that forward runs before it uploads them.
// Shape letters: B batch, T sequence, V vocabulary.
#include <doctest/doctest.h>

#include "autograd/tape.h"
#include "core/storage.h"
#include "models/transformer.h"

using namespace mone;
using namespace mone::models;

namespace {

proto::ModelSpec tiny_moe_spec() {
  return value_or_die(parse_model_spec(R"pb(
    name: "device-tiny" vocab_size: 13 hidden_size: 8 num_hidden_layers: 2
    num_attention_heads: 2 num_key_value_heads: 1 max_position_embeddings: 8 ffn_type: MONE
    num_experts: 4 num_experts_per_tok: 2 moe_intermediate_size: 8 neuron_topk: 2
    num_shared_experts: 1 shared_expert_intermediate_size: 4 initializer_range: 0.5
  )pb", "<tiny>"));
}

Tensor index_tensor(std::vector<int64_t> v, int64_t B, int64_t T, DType dtype = DType::kI64) {
  return value_or_die(value_or_die(Tensor::from_vector<int64_t>(v, {B, T})).to(dtype));
}

std::string message_of(const Status& s) { return std::string(s.message()); }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("Transformer::to(cpu) on a CPU model keeps every value, its storage and the forward") {
  auto model = value_or_die(Transformer::create(tiny_moe_spec(), 3));
  CHECK(model->device() == Device::cpu());
  const Tensor ids = index_tensor({1, 5, 7, 2, 12, 0, 3, 8}, 2, 4);
  const Tensor targets = index_tensor({5, 7, 2, 12, 0, 3, 8, 1}, 2, 4);
  const double before = value_or_die(model->forward(ids, targets)).loss.value().item();
  autograd::current_tape().clear();
  std::vector<const void*> storages;
  for (const auto& p : model->parameters()) storages.push_back(p.param.value().storage().get());
  REQUIRE(model->to(Device::cpu()).ok());
  for (size_t i = 0; i < storages.size(); ++i) {
    CHECK_MESSAGE(model->parameters()[i].param.value().storage().get() == storages[i], model->parameters()[i].name);
  }
  // The checkpoint views of the stacked experts still slice the same storage.
  for (const auto& entry : checkpoint_tensors(model->parameters())) {
    CHECK_MESSAGE(entry.second.device().is_cpu(), entry.first);
  }
  const double after = value_or_die(model->forward(ids, targets)).loss.value().item();
  autograd::current_tape().clear();
  CHECK(after == before);
}

TEST_CASE("Transformer::to(cuda) without a GPU fails with a Status naming a parameter; the model stays usable") {
  if (cuda_device_count() > 0) {
    MESSAGE("a GPU is visible: tests/train/test_train_cuda.cpp moves models there");
    return;
  }
  auto model = value_or_die(Transformer::create(tiny_moe_spec(), 3));
  const Status s = model->to(Device::cuda());
  REQUIRE_FALSE(s.ok());
  CHECK(message_of(s).find("moving the model to cuda:0: parameter model.embed_tokens.weight") != std::string::npos);
  CHECK(model->device() == Device::cpu());
  const Tensor ids = index_tensor({1, 5, 7, 2}, 1, 4);
  CHECK(model->forward(ids, ids).ok());
  autograd::current_tape().clear();
}

TEST_CASE("Transformer::to(cuda) refuses a neuron selector the CUDA kernels lack, naming the field, GPU or not") {
  proto::ModelSpec spec = tiny_moe_spec();
  spec.set_neuron_selector(proto::ModelSpec::SIGNED_GATE);
  auto model = value_or_die(Transformer::create(spec, 3));
  const Status s = model->to(Device::cuda());
  CHECK(s.code() == absl::StatusCode::kUnimplemented);
  CHECK(message_of(s) == "model spec field neuron_selector: SIGNED_GATE runs on the CPU only (the CUDA kernels select "
                         "neurons by |G|, ABS_GATE); use --device cpu");
  CHECK(model->device() == Device::cpu());
  CHECK(check_runs_on(spec, Device::cpu()).ok());
  spec.set_neuron_selector(proto::ModelSpec::ABS_GATE);
  CHECK(check_runs_on(spec, Device::cuda()).ok());
}

TEST_CASE("bf16 mixed precision is refused on the CPU, and only f32 parameters take it") {
  auto model = value_or_die(Transformer::create(tiny_moe_spec(), 3));
  CHECK(model->compute_dtype() == DType::kF32);
  const Status bf16 = model->set_compute_dtype(DType::kBF16);
  REQUIRE_FALSE(bf16.ok());
  CHECK(message_of(bf16).find("bf16 mixed precision runs on CUDA only (the CPU kernels compute in f32 and f64)") !=
        std::string::npos);
  CHECK(message_of(bf16).find("this model is on cpu") != std::string::npos);
  CHECK(model->compute_dtype() == DType::kF32);  // unchanged
  CHECK(model->set_compute_dtype(DType::kF32).ok());
  auto f64 = value_or_die(Transformer::create(tiny_moe_spec(), 3, DType::kF64));
  const Status mixed = f64->set_compute_dtype(DType::kBF16);
  REQUIRE_FALSE(mixed.ok());
  CHECK(message_of(mixed).find("compute dtype bf16 over f64 parameters") != std::string::npos);
  CHECK(f64->set_compute_dtype(DType::kF32).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("forward checks ids and targets on the host before it uploads them, naming the position") {
  auto model = value_or_die(Transformer::create(tiny_moe_spec(), 3));
  autograd::NoGradGuard no_grad;
  // The model's own check (not the embedding op's): "model forward", the tensor, its position.
  for (DType dtype : {DType::kI32, DType::kI64}) {
    auto r = model->forward(index_tensor({1, 2, 3, 4, 5, 6, 13, 0}, 2, 4, dtype), Tensor());
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.status()) == "model forward: ids[1, 2] = 13 is outside [0, V = 13)");
  }
  auto negative = model->forward(index_tensor({-1, 2, 3, 4}, 1, 4), Tensor());
  REQUIRE_FALSE(negative.ok());
  CHECK(message_of(negative.status()) == "model forward: ids[0, 0] = -1 is outside [0, V = 13)");
  const Tensor ids = index_tensor({1, 2, 3, 4}, 1, 4);
  auto bad_target = model->forward(ids, index_tensor({1, 2, -3, 4}, 1, 4));
  REQUIRE_FALSE(bad_target.ok());
  CHECK(message_of(bad_target.status()) ==
        "model forward: targets[0, 2] = -3 is outside [0, V = 13) and is not ignore_index -1");
  // -1 is an ignored target: its row does not count in the mean.
  auto ignored = model->forward(ids, index_tensor({1, -1, 3, 4}, 1, 4));
  CHECK(ignored.ok());
  // Targets shaped unlike ids are refused before anything else.
  auto shape = model->forward(ids, index_tensor({1, 2}, 1, 2));
  REQUIRE_FALSE(shape.ok());
  CHECK(message_of(shape.status()).find("do not match ids") != std::string::npos);
}

}  // TEST_SUITE("unit")

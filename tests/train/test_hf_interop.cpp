// Hugging Face transformers checkpoints in and out (train/hf_*.h, docs/INTEROP.md), against the
// tiny models and logits that tests/reference/make_hf_models.py made with transformers 4.45.2 in
// tests/data/hf: each architecture's logits to 1e-5, mone import and export, exports that
// transformers computes identically (their logits stored by the script's --mone check), the
// inputs of the sparsification study on an imported model, and every refusal.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "autograd/tape.h"
#include "models/spec.h"
#include "tests/train/trainer_test_util.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpointing.h"
#include "train/hf_interop.h"
#include "train/hf_weights.h"
#include "train/model_config.h"

using namespace mone;
using namespace mone::train;
using namespace mone::train::trainer_testing;
using mone_testing::run_mone;
namespace fs = std::filesystem;

namespace {

std::string hf_data(const std::string& name) { return std::string(MONE_SOURCE_DIR) + "/tests/data/hf/" + name; }

struct Reference {
  Tensor ids;     // [B, T] i64
  Tensor logits;  // [B, T, V] f32
};

Reference reference(const std::string& file) {
  SafetensorsFile f = value_or_die(read_safetensors(hf_data(file)));
  return {f.tensors.at("input_ids"), f.tensors.at("logits")};
}

// The model's logits [N, V] for ids [B, T].
Tensor logits_of(const models::Transformer& model, const Tensor& ids) {
  autograd::NoGradGuard no_grad;
  return value_or_die(model.forward(ids, Tensor())).logits.value();
}

// max |got − want| / max |want| over the same number of elements.
double relative_error(const Tensor& got, const Tensor& want) {
  REQUIRE(got.numel() == want.numel());
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    diff = std::max(diff, std::abs(g[i] - w[i]));
    scale = std::max(scale, std::abs(w[i]));
  }
  return diff / scale;
}

using mone_testing::contains;

// A copy of tests/data/hf/<name> in `dir` under `as`, to break.
std::string copy_model(const ScratchDir& dir, const std::string& name, const std::string& as) {
  const std::string to = dir.file(as);
  fs::copy(hf_data(name), to, fs::copy_options::recursive);
  return to;
}

void edit_json(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = value_or_die(read_json_file(path));
  edit(j);
  REQUIRE(write_json_file_atomic(path, j).ok());
}

std::string error_of(const StatusOr<std::unique_ptr<models::Transformer>>& r) {
  REQUIRE_FALSE(r.ok());
  return std::string(r.status().message());
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("Mixtral, Qwen2-MoE and OLMoE load directly and match transformers' logits to 1e-5 in f32") {
  // mixtral: f32, one file; mixtral_packed: the same weights as newer transformers pack them;
  // qwen2_moe: bf16 in three shards, biases, a gated shared expert, a dense layer, tied
  // embeddings; olmoe: f16, q/k norms, a clamp that bites, attention biases.
  for (const auto& pair : std::vector<std::pair<std::string, std::string>>{
           {"mixtral", "mixtral"}, {"mixtral_packed", "mixtral"}, {"qwen2_moe", "qwen2_moe"}, {"olmoe", "olmoe"}}) {
    const std::string &name = pair.first, &logits_file = pair.second;  // not a structured binding: INFO is a lambda (clang 14)
    INFO(name);
    const Reference ref = reference(logits_file + ".logits.safetensors");
    std::string loaded;
    auto model = value_or_die(load_model_from_checkpoint(hf_data(name), &loaded));
    CHECK(loaded == hf_data(name));
    const double err = relative_error(logits_of(*model, ref.ids), ref.logits);
    MESSAGE(name, ": relative error of the logits ", err);
    CHECK(err <= 1e-5);
  }
}

TEST_CASE("the imported specs carry each architecture's fields") {
  auto mixtral = value_or_die(load_hf_model(hf_data("mixtral")));
  const proto::ModelSpec& m = mixtral->spec();
  CHECK(m.ffn_type() == proto::ModelSpec::MOE);
  CHECK(m.norm_topk_prob());
  CHECK(m.num_shared_experts() == 0);
  CHECK(m.moe_intermediate_size() == 12);
  CHECK(m.rms_norm_eps() == 1e-5);
  CHECK(m.router_aux_loss_coef() == doctest::Approx(0.002));  // transformers' 0.001 x K = 2
  CHECK(m.router_z_loss_coef() == 0);
  CHECK(m.name() == "mixtral");

  HfArchitecture arch;
  auto qwen = value_or_die(load_hf_model(hf_data("qwen2_moe"), DType::kF32, &arch));
  CHECK(arch == HfArchitecture::kQwen2Moe);
  const proto::ModelSpec& q = qwen->spec();
  CHECK(q.attention_qkv_bias());
  CHECK_FALSE(q.attention_output_bias());
  CHECK(q.shared_expert_gate());
  CHECK(q.num_shared_experts() == 1);
  CHECK(q.shared_expert_intermediate_size() == 24);
  CHECK(q.intermediate_size() == 20);
  CHECK(q.tie_word_embeddings());
  CHECK_FALSE(q.norm_topk_prob());
  CHECK(models::is_moe_layer(q, 0));
  CHECK_FALSE(models::is_moe_layer(q, 1));  // mlp_only_layers: [1]
  CHECK(models::is_moe_layer(q, 2));

  auto olmoe = value_or_die(load_hf_model(hf_data("olmoe")));
  const proto::ModelSpec& o = olmoe->spec();
  CHECK(o.qk_norm());
  CHECK(o.clip_qkv() == doctest::Approx(0.6));
  CHECK(o.attention_qkv_bias());
  CHECK(o.attention_output_bias());
  CHECK(o.router_aux_loss_coef() == doctest::Approx(0.02));
}

TEST_CASE("mone import writes a mone model directory that computes the same logits bit for bit") {
  ScratchDir dir;
  for (const char* name : {"mixtral_packed", "qwen2_moe", "olmoe"}) {
    INFO(name);
    const std::string out = dir.file(std::string(name) + "_mone");
    const auto r = run_mone("import --from " + hf_data(name) + " --out " + out);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(contains(r.output, "imported"));
    // A mone directory: mone's config.json keys, mone's tensor names.
    const nlohmann::json config = value_or_die(read_json_file(out + "/config.json"));
    CHECK(config["model_type"] == "mone");
    CHECK(fs::exists(out + "/model.safetensors"));
    auto direct = value_or_die(load_model_from_checkpoint(hf_data(name)));
    auto imported = value_or_die(load_model_from_checkpoint(out));
    const Reference ref = reference(std::string(name == std::string("mixtral_packed") ? "mixtral" : name) +
                                    ".logits.safetensors");
    CHECK(logits_of(*imported, ref.ids).to_vector<float>() == logits_of(*direct, ref.ids).to_vector<float>());
    // An existing directory is never overwritten.
    const auto again = run_mone("import --from " + hf_data(name) + " --out " + out);
    CHECK(again.exit_code == 1);
    CHECK(contains(again.output, "already exists"));
  }
}

TEST_CASE("mone models exported for transformers: transformers computes mone's logits (stored by the script)") {
  // make_hf_models.py --mone ran `mone export` on these and stored transformers' logits.
  for (const std::string name : {"mone_moe", "mone_shared"}) {
    INFO(name);
    const Reference ref = reference(name + ".export_logits.safetensors");
    auto model = value_or_die(load_model_from_checkpoint(hf_data(name)));
    const double err = relative_error(logits_of(*model, ref.ids), ref.logits);
    MESSAGE(name, ": relative error against transformers ", err);
    CHECK(err <= 1e-5);
  }
  // A MoNE model: transformers runs every neuron, so it computes the MoE with the same weights.
  const Reference ref = reference("mone_mone.export_logits.safetensors");
  auto mone_model = value_or_die(load_model_from_checkpoint(hf_data("mone_mone")));
  proto::ModelSpec as_moe = mone_model->spec();
  as_moe.set_ffn_type(proto::ModelSpec::MOE);
  auto moe = value_or_die(models::Transformer::create(as_moe, 0));
  std::map<std::string, Tensor> weights;
  for (const auto& [n, t] : models::checkpoint_tensors(mone_model->parameters())) weights[n] = t;
  REQUIRE(models::load_parameters(moe->parameters(), weights, "mone_mone").ok());
  const double twin = relative_error(logits_of(*moe, ref.ids), ref.logits);
  MESSAGE("mone_mone's MoE twin: relative error against transformers ", twin);
  CHECK(twin <= 1e-5);
  CHECK(relative_error(logits_of(*mone_model, ref.ids), ref.logits) > 1e-2);  // K_N = 3 of 12 differs
}

TEST_CASE("export chooses the architecture and writes what it needs, and reads back to the same logits") {
  ScratchDir dir;
  const Tensor ids = value_or_die(Tensor::from_vector<int64_t>({1, 7, 30, 2, 47, 11, 0, 5}, {1, 8}));
  struct Case {
    const char* name;
    HfArchitecture arch;
  };
  for (const Case& c : {Case{"mone_moe", HfArchitecture::kMixtral}, Case{"mone_shared", HfArchitecture::kQwen2Moe},
                        Case{"mone_mone", HfArchitecture::kMixtral}, Case{"olmoe", HfArchitecture::kOlmoe},
                        Case{"qwen2_moe", HfArchitecture::kQwen2Moe}}) {
    INFO(c.name);
    auto model = value_or_die(load_model_from_checkpoint(hf_data(c.name)));
    const std::string out = dir.file(std::string(c.name) + "_hf");
    CHECK(value_or_die(export_hf_model(*model, out)) == c.arch);
    const nlohmann::json config = value_or_die(read_json_file(out + "/config.json"));
    CHECK(config["architectures"][0] == hf_architecture_name(c.arch));
    // mone reads its export back as transformers would, to the same logits.
    auto back = value_or_die(load_model_from_checkpoint(out));
    CHECK(relative_error(logits_of(*back, ids), logits_of(*model, ids)) <= 1e-6);
    CHECK(back->spec().ffn_type() == model->spec().ffn_type());  // MoNE survives through its own keys
    CHECK(back->spec().neuron_topk() == model->spec().neuron_topk());
  }
  // Mixtral's names; Qwen2-MoE's zero biases, zero gate and doubled shared down_proj.
  const SafetensorsFile mixtral = value_or_die(read_safetensors(dir.file("mone_moe_hf/model.safetensors")));
  CHECK(mixtral.tensors.count("model.layers.1.block_sparse_moe.experts.3.w2.weight") == 1);
  CHECK(mixtral.tensors.count("model.layers.0.block_sparse_moe.gate.weight") == 1);
  CHECK(mixtral.tensors.count("model.layers.0.mlp.gate.weight") == 0);
  const SafetensorsFile qwen = value_or_die(read_safetensors(dir.file("mone_shared_hf/model.safetensors")));
  const SafetensorsFile original = value_or_die(read_safetensors(hf_data("mone_shared/model.safetensors")));
  CHECK(qwen.tensors.at("model.layers.1.self_attn.q_proj.bias").to_vector<float>() == std::vector<float>(16, 0.0f));
  CHECK(qwen.tensors.at("model.layers.1.mlp.shared_expert_gate.weight").to_vector<float>() ==
        std::vector<float>(16, 0.0f));
  CHECK(qwen.tensors.count("model.layers.0.mlp.shared_expert_gate.weight") == 0);  // layer 0 is dense
  const auto down = original.tensors.at("model.layers.1.mlp.shared_expert.down_proj.weight").to_vector<float>();
  auto doubled = down;
  for (float& v : doubled) v *= 2;
  CHECK(qwen.tensors.at("model.layers.1.mlp.shared_expert.down_proj.weight").to_vector<float>() == doubled);
  const nlohmann::json qc = value_or_die(read_json_file(dir.file("mone_shared_hf/config.json")));
  CHECK(qc["mlp_only_layers"] == nlohmann::json::array({0}));
  CHECK(qc["shared_expert_intermediate_size"] == 8);
  const nlohmann::json mc = value_or_die(read_json_file(dir.file("mone_mone_hf/config.json")));
  CHECK(mc["neuron_topk"] == 3);
  CHECK(mc["ffn_type"] == "mone");
  // bf16 through the command line.
  const auto r = run_mone("export --checkpoint " + hf_data("mone_moe") + " --to " + dir.file("bf16") + " --dtype bf16");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(contains(r.output, "MixtralForCausalLM"));
  const SafetensorsFile bf16 = value_or_die(read_safetensors(dir.file("bf16/model.safetensors")));
  CHECK(bf16.stored_dtypes.at("lm_head.weight") == "BF16");
  CHECK(value_or_die(read_json_file(dir.file("bf16/config.json")))["torch_dtype"] == "bfloat16");
}

TEST_CASE("export refuses what no transformers architecture computes, naming the field") {
  ScratchDir dir;
  auto base = value_or_die(load_model_from_checkpoint(hf_data("mone_moe")));
  struct Case {
    std::function<void(proto::ModelSpec&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](proto::ModelSpec& s) { s.set_clip_qkv(1.0); }, "field clip_qkv = 1"},
      {[](proto::ModelSpec& s) { s.set_attention_output_bias(true); }, "field attention_output_bias = true"},
      {[](proto::ModelSpec& s) {
         s.set_num_shared_experts(2);
         s.set_shared_expert_intermediate_size(4);
       },
       "field num_shared_experts = 2"},
      {[](proto::ModelSpec& s) {
         s.set_qk_norm(true);
         s.set_num_shared_experts(1);
       },
       "field qk_norm = true: no transformers architecture computes this model exactly (OLMoE"},
      {[](proto::ModelSpec& s) {
         s.set_ffn_type(proto::ModelSpec::DENSE);
         s.set_intermediate_size(8);
       },
       "field ffn_type = dense"},
  };
  for (const Case& c : cases) {
    proto::ModelSpec spec = base->spec();
    c.change(spec);
    auto model = value_or_die(models::Transformer::create(spec, 1));
    const auto r = export_hf_model(*model, dir.file("x"));
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(contains(std::string(r.status().message()), c.message), r.status().message());
    CHECK_FALSE(fs::exists(dir.file("x")));
  }
}

TEST_CASE("an imported model evaluates with mone eval and exposes its MoE layers' gate activations") {
  ScratchDir dir;
  write_random_shard(dir.file("val.bin"), 200, 48, 5);
  const auto r = run_mone("eval --checkpoint " + hf_data("qwen2_moe") + " --data " + dir.file("val.bin") +
                          " --batch-size 2 --seq-len 8 --batches 3 --json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const nlohmann::json out = nlohmann::json::parse(r.output);
  CHECK(out["batches"] == 3);
  CHECK(out["loss"].get<double>() > 0.5);  // about log 48 = 3.9 for a random model
  CHECK(out["loss"].get<double>() < 20);

  // What the sparsification study reads: G of every routed row, per MoE layer (layer 1 is dense).
  auto model = value_or_die(load_model_from_checkpoint(hf_data("qwen2_moe")));
  const Reference ref = reference("qwen2_moe.logits.safetensors");
  autograd::NoGradGuard no_grad;
  const models::ModelOutput fwd = value_or_die(model->forward(ref.ids, Tensor()));
  REQUIRE(fwd.layers.size() == 3);
  CHECK_FALSE(fwd.layers[1].gate_activations.defined());
  for (int layer : {0, 2}) {
    const models::FfnAux& aux = fwd.layers[layer];
    REQUIRE(aux.gate_activations.defined());
    CHECK(aux.gate_activations.shape() == Shape{16 * 2, 12});  // N·K routed rows, D = 12 neurons
    std::vector<int64_t> pairs = aux.row_pairs.to_vector<int64_t>();
    std::sort(pairs.begin(), pairs.end());
    for (int64_t i = 0; i < 32; ++i) CHECK(pairs[i] == i);
  }
  // The study's operation, keep the top K_N of D neurons by |G|: keeping all of them is the model
  // itself, keeping half changes the logits.
  std::map<std::string, Tensor> weights;
  for (const auto& [n, t] : models::checkpoint_tensors(model->parameters())) weights[n] = t;
  const Tensor full = logits_of(*model, ref.ids);
  for (int64_t keep : {12, 6}) {
    proto::ModelSpec sparse = model->spec();
    sparse.set_ffn_type(proto::ModelSpec::MONE);
    sparse.set_neuron_topk(keep);
    auto pruned = value_or_die(models::Transformer::create(sparse, 0));
    REQUIRE(models::load_parameters(pruned->parameters(), weights, "qwen2_moe").ok());
    const double err = relative_error(logits_of(*pruned, ref.ids), full);
    if (keep == 12) CHECK(err <= 1e-6);
    if (keep == 6) CHECK(err > 1e-3);
  }
}

TEST_CASE("mone sparsify reads an imported model directly: keep 1 is mone eval, fewer neurons change the loss") {
  ScratchDir dir;
  write_random_shard(dir.file("val.bin"), 200, 48, 5);
  const std::string flags = " --data " + dir.file("val.bin") + " --batch-size 2 --seq-len 8 --batches 3 --json";
  for (const char* arch : {"mixtral", "qwen2_moe"}) {
    CAPTURE(arch);
    const auto eval = run_mone("eval --checkpoint " + hf_data(arch) + flags);
    REQUIRE_MESSAGE(eval.exit_code == 0, eval.output);
    const auto sp = run_mone("sparsify --checkpoint " + hf_data(arch) + flags + " --keep 1,0.5 --shared");
    REQUIRE_MESSAGE(sp.exit_code == 0, sp.output);
    const nlohmann::json e = nlohmann::json::parse(eval.output), s = nlohmann::json::parse(sp.output);
    REQUIRE(s["points"].size() == 2);
    CHECK(s["tokens"] == e["tokens"]);
    CHECK(s["points"][0]["loss"].get<double>() == e["loss"].get<double>());
    CHECK(s["points"][0]["neuron_topk"] == s["moe_intermediate_size"]);  // a MoE keeps K_N = D
    CHECK(s["points"][1]["neuron_topk"].get<int64_t>() == s["moe_intermediate_size"].get<int64_t>() / 2);
    CHECK(s["points"][1]["loss"].get<double>() != s["points"][0]["loss"].get<double>());
  }
}

TEST_CASE("bad transformers directories: clear errors naming the file and what is wrong, non-zero exit") {
  ScratchDir dir;
  // An unknown architecture, through the command line.
  const std::string llama = copy_model(dir, "mixtral", "llama");
  edit_json(llama + "/config.json", [](nlohmann::json& c) {
    c["architectures"] = {"LlamaForCausalLM"};
    c["model_type"] = "llama";
  });
  auto r = run_mone("import --from " + llama + " --out " + dir.file("out"));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "config.json: architecture \"LlamaForCausalLM\" (model_type \"llama\") is not one mone imports"));
  CHECK(contains(r.output, "MixtralForCausalLM, Qwen2MoeForCausalLM, OlmoeForCausalLM"));
  CHECK_FALSE(fs::exists(dir.file("out")));

  // A missing shard, through mone eval.
  const std::string no_shard = copy_model(dir, "qwen2_moe", "no_shard");
  fs::remove(no_shard + "/model-00002-of-00003.safetensors");
  write_random_shard(dir.file("val.bin"), 100, 48, 1);
  r = run_mone("eval --checkpoint " + no_shard + " --data " + dir.file("val.bin") + " --seq-len 8 --batch-size 1");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "model.safetensors.index.json: shard model-00002-of-00003.safetensors"));
  CHECK(contains(r.output, "does not exist"));

  // An index that points a tensor at a shard that does not hold it.
  const std::string nowhere = copy_model(dir, "qwen2_moe", "nowhere");
  edit_json(nowhere + "/model.safetensors.index.json", [](nlohmann::json& index) {
    index["weight_map"]["model.norm.weight"] = "model-00001-of-00003.safetensors";
  });
  std::string msg = error_of(load_hf_model(nowhere));
  CHECK(contains(msg, "puts tensor model.norm.weight in this shard, which does not hold it"));
  // ... or at a file that is not a shard name.
  edit_json(nowhere + "/model.safetensors.index.json", [](nlohmann::json& index) {
    index["weight_map"]["model.norm.weight"] = "../elsewhere.safetensors";
  });
  CHECK(contains(error_of(load_hf_model(nowhere)), "must be the name of a shard file"));

  // A dtype mismatch: an integer tensor where a weight belongs.
  const std::string ints = copy_model(dir, "olmoe", "ints");
  {
    SafetensorsFile f = value_or_die(read_safetensors(ints + "/model.safetensors"));
    models::NamedTensorList tensors;
    for (const std::string& name : f.names) {
      const Tensor& t = f.tensors.at(name);
      tensors.emplace_back(name, name == "model.norm.weight" ? Tensor::zeros(t.shape(), DType::kI32) : t);
    }
    REQUIRE(write_safetensors(ints + "/model.safetensors", tensors).ok());
  }
  r = run_mone("import --from " + ints + " --out " + dir.file("out"));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "tensor model.norm.weight has dtype I32; weights must be F32, BF16 or F16"));

  // A header whose dtype does not match its bytes: F16 declared over F32 data.
  const std::string halves = copy_model(dir, "mixtral", "halves");
  {
    std::string bytes = read_text(halves + "/model.safetensors");
    const std::string entry = "\"model.norm.weight\":{\"dtype\":\"F32\"";
    const size_t at = bytes.find(entry);
    REQUIRE(at != std::string::npos);
    bytes.replace(at + entry.size() - 4, 3, "F16");
    write_text(halves + "/model.safetensors", bytes);
  }
  r = run_mone("import --from " + halves + " --out " + dir.file("out"));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "tensor \"model.norm.weight\": data_offsets"));
  CHECK(contains(r.output, "bytes but F16 [16] needs 32"));

  // A missing tensor, a stray one, a wrong shape.
  const std::string bad = copy_model(dir, "mixtral", "bad");
  auto rewrite = [&](const std::function<void(models::NamedTensorList&)>& edit) {
    SafetensorsFile f = value_or_die(read_safetensors(hf_data("mixtral/model.safetensors")));
    models::NamedTensorList tensors;
    for (const std::string& name : f.names) tensors.emplace_back(name, f.tensors.at(name));
    edit(tensors);
    REQUIRE(write_safetensors(bad + "/model.safetensors", tensors).ok());
  };
  rewrite([](models::NamedTensorList& t) {
    t.erase(std::remove_if(t.begin(), t.end(), [](const auto& p) { return p.first == "model.layers.1.block_sparse_moe.experts.2.w3.weight"; }),
            t.end());
  });
  CHECK(contains(error_of(load_hf_model(bad)),
                 "tensor model.layers.1.block_sparse_moe.experts.2.w3.weight is missing (MixtralForCausalLM"));
  rewrite([](models::NamedTensorList& t) { t.emplace_back("model.layers.0.mlp.shared_expert_gate.weight", Tensor::zeros({1, 16})); });
  CHECK(contains(error_of(load_hf_model(bad)),
                 "tensor model.layers.0.mlp.shared_expert_gate.weight is not a parameter of MixtralForCausalLM"));
  rewrite([](models::NamedTensorList& t) {
    for (auto& [name, tensor] : t) {
      if (name == "model.norm.weight") tensor = Tensor::zeros({17});
    }
  });
  CHECK(contains(error_of(load_hf_model(bad)), "tensor model.norm.weight has shape [17]; config.json makes model.norm.weight [16]"));
  fs::remove(bad + "/model.safetensors");
  CHECK(contains(error_of(load_hf_model(bad)), "no model.safetensors and no model.safetensors.index.json"));
}

TEST_CASE("config values mone would compute differently are refused, naming the architecture and key") {
  ScratchDir dir;
  const std::string path = copy_model(dir, "olmoe", "olmoe");
  const nlohmann::json original = value_or_die(read_json_file(path + "/config.json"));
  struct Case {
    const char* key;
    nlohmann::json value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}, "key \"rope_scaling\" = {\"factor\":2.0,\"type\":\"linear\"}: mone computes plain RoPE"},
      {"hidden_act", "gelu", "OlmoeForCausalLM: key \"hidden_act\" = \"gelu\": mone's SwiGLU gates are silu"},
      {"attention_dropout", 0.1, "key \"attention_dropout\" = 0.1: mone has no dropout"},
      {"quantization_config", {{"quant_method", "gptq"}}, "key \"quantization_config\" = {\"quant_method\":\"gptq\"} is not one mone understands"},
      {"head_dim", 8, "key \"head_dim\" = 8: mone's head_dim is hidden_size / num_attention_heads = 4"},
      {"clip_qkv", 0, "key \"clip_qkv\" = 0: must be null (no clamp) or a number > 0"},
      {"num_experts_per_tok", 5, "num_experts_per_tok = 5: must be in [1, num_experts = 4]"},
      {"num_key_value_heads", 0, "key \"num_key_value_heads\" = 0: must be >= 1"},
  };
  for (const Case& c : cases) {
    edit_json(path + "/config.json", [&](nlohmann::json& j) {
      j = original;
      j[c.key] = c.value;
    });
    const std::string msg = error_of(load_hf_model(path));
    CHECK_MESSAGE(contains(msg, path + "/config.json"), msg);
    CHECK_MESSAGE(contains(msg, c.message), msg);
  }
  // Mixtral's sliding window and jitter; Qwen2-MoE's sliding window.
  const std::string mixtral = copy_model(dir, "mixtral", "mixtral");
  edit_json(mixtral + "/config.json", [](nlohmann::json& j) { j["sliding_window"] = 16; });
  CHECK(contains(error_of(load_hf_model(mixtral)), "MixtralForCausalLM: key \"sliding_window\" = 16: mone computes full causal"));
  edit_json(mixtral + "/config.json", [](nlohmann::json& j) {
    j["sliding_window"] = 32;  // holds every position: the same as full attention
    j["router_jitter_noise"] = 0.1;
  });
  CHECK(contains(error_of(load_hf_model(mixtral)), "key \"router_jitter_noise\" = 0.1"));
  const std::string qwen = copy_model(dir, "qwen2_moe", "qwen");
  edit_json(qwen + "/config.json", [](nlohmann::json& j) { j["use_sliding_window"] = true; });
  CHECK(contains(error_of(load_hf_model(qwen)), "Qwen2MoeForCausalLM: key \"use_sliding_window\" = true"));
}

TEST_CASE("a MoE config carrying mone's own keys is written back with them (found by fuzz_config_json in CI)") {
  // A Mixtral config with "neuron_topk": 2 reads as a MoE spec with neuron_topk 2 (the key is kept
  // for a later --set model.ffn_type=MONE); export wrote mone's keys for MoNE models only, so the
  // value was lost when the config was written and read again.
  ScratchDir dir;
  const std::string path = copy_model(dir, "mixtral", "mixtral");
  nlohmann::json config = value_or_die(read_json_file(path + "/config.json"));
  config["neuron_topk"] = 2;
  config["neuron_aux_loss_coef"] = 0.5;
  const HfModelConfig hf = value_or_die(read_hf_config(config, "config.json"));
  CHECK(hf.spec.ffn_type() == proto::ModelSpec::MOE);
  CHECK(hf.spec.neuron_topk() == 2);
  const nlohmann::json written = hf_config_json(hf.spec, hf.arch, "float32");
  CHECK(written.at("neuron_topk") == 2);
  CHECK(written.at("neuron_aux_loss_coef") == 0.5);
  CHECK_FALSE(written.contains("ffn_type"));           // MoE is what the architecture says
  CHECK_FALSE(written.contains("neuron_topk_backward"));  // at its default: not written
  const HfModelConfig again = value_or_die(read_hf_config(written, "written config.json"));
  CHECK(models::model_spec_to_text(again.spec) == models::model_spec_to_text(hf.spec));
}

}  // TEST_SUITE("unit")

TEST_SUITE("e2e") {

// The examples of docs/INTEROP.md and of `mone export --help` / `mone import --help` run as written,
// in a folder holding what they assume: TRAINING.md's runs/tiny_mone (here the tiny_mone spec's
// model, drawn from seed 1) and data/fortunes (random tokens of its vocabulary), mone on the PATH.
TEST_CASE("docs/INTEROP.md's round trip and the export and import --help examples run as written") {
  const std::string doc = read_text(std::string(MONE_SOURCE_DIR) + "/docs/INTEROP.md");
  const std::vector<std::string> doc_commands = {
      "mone export --checkpoint runs/tiny_mone --to hf/tiny_mone",
      "mone import --from hf/tiny_mone --out runs/tiny_mone_back",
      "mone eval --checkpoint runs/tiny_mone_back --data data/fortunes --batches 4"};
  std::vector<std::string> help_commands;
  for (const char* command : {"export", "import"}) {
    const auto help = run_mone(std::string(command) + " --help");
    REQUIRE(help.exit_code == 0);
    std::istringstream lines(help.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("  mone ", 0) == 0) help_commands.push_back(line.substr(2));
    }
  }
  CHECK(help_commands == doc_commands);  // the same chain, told twice
  for (const std::string& c : doc_commands) CHECK_MESSAGE(contains(doc, c + "\n"), c);

  for (int round = 0; round < 2; ++round) {  // once for the doc, once for the --help lines
    ScratchDir box;
    fs::create_directories(box.file("runs/tiny_mone"));
    fs::create_directories(box.file("data/fortunes"));
    fs::create_directories(box.file("bin"));
    fs::create_symlink(mone_testing::mone_binary(), box.file("bin/mone"));
    const auto spec = value_or_die(models::load_model_spec(std::string(MONE_SOURCE_DIR) + "/configs/models/tiny_mone.textproto"));
    auto model = value_or_die(models::Transformer::create(spec, 1));
    REQUIRE(write_safetensors(box.file("runs/tiny_mone/model.safetensors"), models::checkpoint_tensors(model->parameters())).ok());
    REQUIRE(write_json_file_atomic(box.file("runs/tiny_mone/config.json"), model_config_json(spec)).ok());
    write_random_shard(box.file("data/fortunes/val.bin"), 8 * 256 * 4 + 1, spec.vocab_size(), 7);
    for (const std::string& c : round == 0 ? doc_commands : help_commands) {
      const auto r = mone_testing::run_shell("cd '" + box.path() + "' && PATH='" + box.file("bin") + "':\"$PATH\" " + c);
      INFO(c);
      REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    }
    // Exported as Qwen2-MoE (tiny_mone has an ungated shared expert) and back as the same MoNE model.
    const nlohmann::json hf = value_or_die(read_json_file(box.file("hf/tiny_mone/config.json")));
    CHECK(hf["architectures"][0] == "Qwen2MoeForCausalLM");
    auto back = value_or_die(load_model_from_checkpoint(box.file("runs/tiny_mone_back")));
    CHECK(back->spec().ffn_type() == proto::ModelSpec::MONE);
    CHECK(back->spec().neuron_topk() == 32);
    const Tensor ids = value_or_die(Tensor::from_vector<int64_t>({1, 700, 30, 2, 1000, 11, 0, 5}, {1, 8}));
    CHECK(relative_error(logits_of(*back, ids), logits_of(*model, ids)) <= 1e-6);
  }
}

}  // TEST_SUITE("e2e")

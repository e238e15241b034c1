#include "train/hf_weights.h"

#include <sys/stat.h>

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "core/file_io.h"
#include "ops/elementwise.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/safetensors.h"

namespace mone::train {
namespace {

using models::NamedTensorList;

constexpr char kSingleFileName[] = "model.safetensors";
constexpr char kPackedGateUp[] = ".mlp.experts.gate_up_proj";
constexpr char kPackedDown[] = ".mlp.experts.down_proj";

// Mixtral's expert projections and mone's.
constexpr std::pair<const char*, const char*> kMixtralExpertNames[] = {
    {".w1.weight", ".gate_proj.weight"}, {".w3.weight", ".up_proj.weight"}, {".w2.weight", ".down_proj.weight"}};

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// mone's name for a transformers tensor name (a packed expert tensor keeps its name).
std::string mone_tensor_name(const std::string& hf, HfArchitecture arch) {
  if (arch != HfArchitecture::kMixtral) return hf;
  std::string n = absl::StrReplaceAll(hf, {{".block_sparse_moe.", ".mlp."}});
  if (absl::StrContains(n, ".mlp.experts.")) {
    for (const auto& [theirs, ours] : kMixtralExpertNames) {
      if (absl::EndsWith(n, theirs)) return n.substr(0, n.size() - std::string(theirs).size()) + ours;
    }
  }
  return n;
}

// One safetensors file and, when an index lists it, the tensors the index says it holds.
struct WeightFile {
  std::string path;
  std::set<std::string> indexed;  // empty for a lone model.safetensors
};

StatusOr<std::vector<WeightFile>> find_weight_files(const std::string& dir) {
  const std::string single = join_path(dir, kSingleFileName), index_path = join_path(dir, kHfIndexFileName);
  if (exists(single)) return std::vector<WeightFile>{{single, {}}};
  if (!exists(index_path)) {
    const bool pickle = exists(join_path(dir, "pytorch_model.bin")) || exists(join_path(dir, "pytorch_model.bin.index.json"));
    return absl::NotFoundError(absl::StrCat(
        dir, ": no ", kSingleFileName, " and no ", kHfIndexFileName,
        pickle ? " (mone reads safetensors only, not PyTorch pickles: save the model with safe_serialization=True)"
               : " (a transformers directory holds one of them)"));
  }
  MONE_ASSIGN_OR_RETURN(nlohmann::json index, read_json_file(index_path));
  auto map = index.find("weight_map");
  if (!index.is_object() || map == index.end() || !map->is_object() || map->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_path, ": expected {\"weight_map\": {tensor name: shard file, ...}} with at least one entry"));
  }
  std::map<std::string, WeightFile> by_file;
  for (const auto& [tensor, file_value] : map->items()) {
    const std::string file = file_value.is_string() ? file_value.get<std::string>() : "";
    if (file.empty() || file == "." || file == ".." || absl::StrContains(file, "/")) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": weight_map[\"", tensor, "\"] = ", file_value.dump(),
                                                     ": must be the name of a shard file in ", dir));
    }
    WeightFile& shard = by_file[file];
    shard.path = join_path(dir, file);
    shard.indexed.insert(tensor);
  }
  std::vector<WeightFile> shards;
  for (auto& [file, shard] : by_file) {
    if (!exists(shard.path)) {
      return absl::NotFoundError(absl::StrCat(index_path, ": shard ", file, " (holding ", *shard.indexed.begin(),
                                              shard.indexed.size() > 1 ? " and others" : "", ") does not exist in ", dir));
    }
    shards.push_back(std::move(shard));
  }
  return shards;
}

// The pieces of one transformers tensor under mone's names: itself, or the per-expert slices of
// a packed tensor. Shapes are checked by the caller against the parameters.
StatusOr<NamedTensorList> split_tensor(const std::string& name, const Tensor& t, HfArchitecture arch,
                                       const std::string& where) {
  const std::string n = mone_tensor_name(name, arch);
  const bool gate_up = absl::EndsWith(n, kPackedGateUp), down = absl::EndsWith(n, kPackedDown);
  if (!gate_up && !down) return NamedTensorList{{n, t}};
  const std::string prefix = n.substr(0, n.size() - std::string(gate_up ? kPackedGateUp : kPackedDown).size());
  if (t.dim() != 3 || (gate_up && t.size(1) % 2 != 0)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": packed expert tensor ", name, " has shape ",
                                                   shape_string(t.shape()),
                                                   gate_up ? ", expected [E, 2·D, d]" : ", expected [E, d, D]"));
  }
  NamedTensorList pieces;
  const int64_t half = t.size(1) / 2;
  for (int64_t e = 0; e < t.size(0); ++e) {
    MONE_ASSIGN_OR_RETURN(Tensor expert, t.slice(0, e, e + 1));
    MONE_ASSIGN_OR_RETURN(expert, expert.reshape({t.size(1), t.size(2)}));
    const std::string base = absl::StrCat(prefix, ".mlp.experts.", e);
    if (down) {
      pieces.emplace_back(base + ".down_proj.weight", expert);
      continue;
    }
    MONE_ASSIGN_OR_RETURN(Tensor gate, expert.slice(0, 0, half));
    MONE_ASSIGN_OR_RETURN(Tensor up, expert.slice(0, half, 2 * half));
    pieces.emplace_back(base + ".gate_proj.weight", gate);
    pieces.emplace_back(base + ".up_proj.weight", up);
  }
  return pieces;
}

// Loading state: where each parameter's tensor goes and whether it has arrived.
struct Destinations {
  std::map<std::string, Tensor> tensors;  // by mone name
  std::map<std::string, std::string> filled_from;
};

Status load_weight_file(const WeightFile& shard, HfArchitecture arch, bool tied, Destinations& dst) {
  MONE_ASSIGN_OR_RETURN(SafetensorsFile file, read_safetensors(shard.path));
  const std::string arch_name = hf_architecture_name(arch);
  if (!shard.indexed.empty()) {
    for (const std::string& name : shard.indexed) {
      if (!file.tensors.count(name)) {
        return absl::NotFoundError(absl::StrCat(shard.path, ": the index (", kHfIndexFileName, ") puts tensor ", name,
                                                " in this shard, which does not hold it"));
      }
    }
  }
  for (const std::string& name : file.names) {
    if (!shard.indexed.empty() && !shard.indexed.count(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(shard.path, ": tensor ", name, " is not listed for this shard in ", kHfIndexFileName));
    }
    if (absl::EndsWith(name, ".rotary_emb.inv_freq")) continue;  // a buffer mone recomputes
    if (tied && name == "lm_head.weight") continue;               // transformers ties it to embed_tokens
    const Tensor& t = file.tensors.at(name);
    const std::string& stored = file.stored_dtypes.at(name);
    if (!is_floating(t.dtype())) {
      return absl::InvalidArgumentError(absl::StrCat(shard.path, ": tensor ", name, " has dtype ", stored,
                                                     "; weights must be F32, BF16 or F16 (F64 is converted too)"));
    }
    MONE_ASSIGN_OR_RETURN(NamedTensorList pieces, split_tensor(name, t, arch, shard.path));
    for (const auto& [mone_name, piece] : pieces) {
      auto it = dst.tensors.find(mone_name);
      if (it == dst.tensors.end()) {
        return absl::InvalidArgumentError(absl::StrCat(shard.path, ": tensor ", name, " is not a parameter of ", arch_name,
                                                       " as its config.json describes it (mone reads it as ", mone_name,
                                                       ")"));
      }
      if (piece.shape() != it->second.shape()) {
        return absl::InvalidArgumentError(absl::StrCat(shard.path, ": tensor ", name, " has shape ",
                                                       shape_string(t.shape()), "; config.json makes ", mone_name, " ",
                                                       shape_string(it->second.shape())));
      }
      auto [previous, inserted] = dst.filled_from.emplace(mone_name, absl::StrCat(name, " in ", shard.path));
      if (!inserted) {
        return absl::InvalidArgumentError(absl::StrCat(shard.path, ": tensor ", name, " sets ", mone_name,
                                                       ", which ", previous->second, " already set"));
      }
      MONE_RETURN_IF_ERROR(it->second.copy_from(piece));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string hf_tensor_name(const std::string& mone_name, HfArchitecture arch) {
  if (arch != HfArchitecture::kMixtral || !absl::StrContains(mone_name, ".mlp.")) return mone_name;
  std::string n = absl::StrReplaceAll(mone_name, {{".mlp.", ".block_sparse_moe."}});
  for (const auto& [theirs, ours] : kMixtralExpertNames) {
    if (absl::EndsWith(n, ours)) return n.substr(0, n.size() - std::string(ours).size()) + theirs;
  }
  return n;
}

Status load_hf_weights(const std::string& dir, HfArchitecture arch, const models::ParameterList& params) {
  Destinations dst;
  bool tied = true;
  for (const auto& [name, t] : models::checkpoint_tensors(params)) {
    dst.tensors.emplace(name, t);
    if (name == "lm_head.weight") tied = false;
  }
  MONE_ASSIGN_OR_RETURN(std::vector<WeightFile> shards, find_weight_files(dir));
  for (const WeightFile& shard : shards) MONE_RETURN_IF_ERROR(load_weight_file(shard, arch, tied, dst));
  for (const auto& [name, t] : dst.tensors) {
    if (!dst.filled_from.count(name)) {
      return absl::NotFoundError(absl::StrCat(dir, ": tensor ", hf_tensor_name(name, arch), " is missing (",
                                              hf_architecture_name(arch), " as its config.json describes it has it)"));
    }
  }
  return absl::OkStatus();
}

StatusOr<NamedTensorList> hf_export_tensors(const models::Transformer& model, HfArchitecture arch, DType dtype) {
  const proto::ModelSpec& s = model.spec();
  const bool qwen = arch == HfArchitecture::kQwen2Moe;
  const bool double_shared_down = qwen && s.num_shared_experts() == 1 && !s.shared_expert_gate();
  NamedTensorList out;
  auto add = [&](const std::string& name, const Tensor& t) -> Status {
    MONE_ASSIGN_OR_RETURN(Tensor converted, t.contiguous().to(dtype));
    out.emplace_back(hf_tensor_name(name, arch), std::move(converted));
    return absl::OkStatus();
  };
  auto add_zeros = [&](const std::string& name, const Shape& shape) { out.emplace_back(name, Tensor::zeros(shape, dtype)); };
  for (const auto& [name, t] : models::checkpoint_tensors(model.parameters())) {
    if (double_shared_down && absl::EndsWith(name, ".mlp.shared_expert.down_proj.weight")) {
      MONE_ASSIGN_OR_RETURN(Tensor doubled, ops::scale(t.contiguous(), 2.0));
      MONE_RETURN_IF_ERROR(add(name, doubled));
    } else {
      MONE_RETURN_IF_ERROR(add(name, t));
    }
  }
  const int64_t d = s.hidden_size(), q_width = s.hidden_size(), kv_width = models::num_kv_heads(s) * models::head_dim(s);
  const bool olmoe_bias = arch == HfArchitecture::kOlmoe && (s.attention_qkv_bias() || s.attention_output_bias());
  for (int64_t i = 0; i < s.num_hidden_layers(); ++i) {
    const std::string attn = absl::StrCat("model.layers.", i, ".self_attn."), mlp = absl::StrCat("model.layers.", i, ".mlp.");
    if ((qwen || olmoe_bias) && !s.attention_qkv_bias()) {
      add_zeros(attn + "q_proj.bias", {q_width});
      add_zeros(attn + "k_proj.bias", {kv_width});
      add_zeros(attn + "v_proj.bias", {kv_width});
    }
    if (olmoe_bias && !s.attention_output_bias()) add_zeros(attn + "o_proj.bias", {d});
    if (!qwen || !models::is_moe_layer(s, i)) continue;
    if (s.num_shared_experts() == 0) {
      add_zeros(mlp + "shared_expert.gate_proj.weight", {1, d});
      add_zeros(mlp + "shared_expert.up_proj.weight", {1, d});
      add_zeros(mlp + "shared_expert.down_proj.weight", {d, 1});
    }
    if (!s.shared_expert_gate()) add_zeros(mlp + "shared_expert_gate.weight", {1, d});
  }
  return out;
}

}  // namespace mone::train

// The weights of a transformers MoE checkpoint: tensor names, the (sharded) safetensors files of a
// directory, and the tensors an export writes (docs/INTEROP.md has the full table).
//
// Names. Qwen2-MoE and OLMoE name every tensor as mone does (DESIGN.md's Hugging Face names, plus
// self_attn.{q,k,v,o}_proj.bias, self_attn.{q,k}_norm.weight, mlp.shared_expert_gate.weight).
// Mixtral differs in the MoE block only:
//   model.layers.{i}.block_sparse_moe.gate.weight           <-> model.layers.{i}.mlp.gate.weight
//   model.layers.{i}.block_sparse_moe.experts.{e}.w1.weight <-> ...mlp.experts.{e}.gate_proj.weight
//   ....w3.weight (up) <-> ...up_proj.weight,   ....w2.weight (down) <-> ...down_proj.weight
// Newer transformers pack a layer's experts into two tensors, read as well:
//   model.layers.{i}.mlp.experts.gate_up_proj [E, 2D, d]: rows [0, D) gate, [D, 2D) up
//   model.layers.{i}.mlp.experts.down_proj    [E, d, D]
//
// Files. A directory holds model.safetensors, or shards listed by model.safetensors.index.json
// ({"weight_map": {tensor name: shard file}}). Every tensor must be F32, BF16, F16 or F64 (converted
// to the model's dtype); every parameter must be found exactly once; a tensor no parameter takes, a
// shard the index names but the directory lacks, or an index entry its shard does not hold is an
// error naming the file and the tensor. Ignored: rotary_emb.inv_freq buffers of old checkpoints,
// and lm_head.weight of a model with tied embeddings (transformers ties it to embed_tokens).
//
// Shape letters: d width, E experts, D expert width.
#pragma once

#include <string>

#include "core/status.h"
#include "models/transformer.h"
#include "train/hf_config.h"

namespace mone::train {

inline constexpr char kHfIndexFileName[] = "model.safetensors.index.json";

// The transformers name of a tensor that models::checkpoint_tensors names `mone_name`.
std::string hf_tensor_name(const std::string& mone_name, HfArchitecture arch);

// Loads the safetensors of the transformers directory `dir` into `params` (built from its config).
Status load_hf_weights(const std::string& dir, HfArchitecture arch, const models::ParameterList& params);

// The tensors an export of `model` as `arch` writes, under transformers' names, in `dtype`: the
// model's own, and what the architecture has that the model lacks, chosen so that transformers
// computes exactly what mone does:
//   - zero biases (Qwen2-MoE's q/k/v; OLMoE's attention_bias covers q, k, v and o together);
//   - Qwen2-MoE without a shared expert: one of width 1 with zero weights, its gate zero;
//   - Qwen2-MoE with an ungated shared expert: the gate zero, so sigmoid(0) = 1/2 exactly, and
//     down_proj doubled (exact in binary floating point), so 1/2 · (2·W_down h) = W_down h.
StatusOr<models::NamedTensorList> hf_export_tensors(const models::Transformer& model, HfArchitecture arch,
                                                    DType dtype);

}  // namespace mone::train

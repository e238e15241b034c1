// The transformer: token embedding, pre-norm blocks (attention, then a dense or MoE/MoNE FFN;
// spec.h's is_moe_layer says which), a final RMSNorm and the LM head, built from a ModelSpec.
//
//   h   = x + Attn(RMSNorm(x))
//   out = h + Ffn(RMSNorm(h))
//   L   = CE + α_aux·L_aux + α_z·L_z + α_NG·L_NG   (auxiliary terms averaged over MoE layers)
//
// Initialisation (also in docs/SPECS.md): every weight matrix from normal(0, initializer_range);
// output projections (o_proj and every down_proj) scaled by 1/sqrt(2·layers); RMSNorm weights 1.
// Parameters are drawn in the order collect() lists them, from one Generator(seed).
//
// Shape letters: B batch, T sequence, N = B·T, d width, V vocabulary.
#pragma once

#include <memory>
#include <vector>

#include "models/attention.h"
#include "models/ffn.h"
#include "models/spec.h"

namespace mone::models {

struct ModelOutput {
  Variable loss;          // the total training loss (0-d)
  Variable ce;            // mean cross-entropy over the target tokens
  Variable load_balance;  // L_aux averaged over MoE layers (undefined without experts)
  Variable z_loss;        // L_z
  Variable neuron_loss;   // L_NG (undefined unless some layer is MoNE with K_N < D)
  Variable logits;        // [N, V], only when no targets were given
  std::vector<FfnAux> layers;  // per-layer statistics (losses too)
};

class Transformer {
 public:
  // Builds the model and draws its weights; errors when the spec is invalid.
  static StatusOr<std::unique_ptr<Transformer>> create(const proto::ModelSpec& spec, uint64_t seed,
                                                       DType dtype = DType::kF32);

  // ids [B, T] (i32/i64), targets [B, T] or undefined. With targets: the losses; without: logits.
  // Token ids outside the vocabulary are an error naming the position. caches (one per layer)
  // are for generation.
  StatusOr<ModelOutput> forward(const Tensor& ids, const Tensor& targets,
                                std::vector<KvCache>* caches = nullptr) const;

  // Every parameter under its Hugging Face name, in a fixed order.
  const ParameterList& parameters() const { return params_; }
  const proto::ModelSpec& spec() const { return spec_; }
  DType dtype() const { return dtype_; }

 private:
  struct Block {
    Variable input_norm, post_attention_norm;
    std::unique_ptr<Attention> attention;
    std::unique_ptr<Ffn> ffn;
  };
  Transformer() = default;

  proto::ModelSpec spec_;
  DType dtype_ = DType::kF32;
  Variable embed_, final_norm_, lm_head_;
  std::vector<Block> blocks_;
  ParameterList params_;
};

}  // namespace mone::models

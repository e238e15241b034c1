// The transformer: token embedding, pre-norm blocks (attention, then a dense or MoE/MoNE FFN;
// spec.h's is_moe_layer says which), a final RMSNorm and the LM head, built from a ModelSpec.
//
//   h   = x + Attn(RMSNorm(x))
//   out = h + Ffn(RMSNorm(h))
//   L   = CE + α_aux·L_aux + α_z·L_z + α_NG·L_NG   (auxiliary terms averaged over MoE layers)
//
// Initialisation (also in docs/SPECS.md): every weight matrix from normal(0, initializer_range);
// output projections (o_proj and every down_proj) scaled by 1/sqrt(2·layers); RMSNorm weights 1.
// Parameters are drawn in the order collect() lists them, from one Generator(seed), on the CPU;
// to(device) then moves them, so a model has the same weights on every device.
//
// Precision. The forward computes in compute_dtype(): the parameters' own dtype, or bf16 over f32
// parameters on CUDA (mixed precision). Then every use of a weight is a differentiable cast of the
// f32 master to bf16 (autograd/cast.h), so the activations, the attention and FFN products and the
// KV cache are bf16 (kernels accumulate in f32), the losses are reduced in f32 (cross-entropy
// returns f32 for bf16 logits; the auxiliary losses take f32 copies of their bf16 inputs), and
// each weight's gradient reaches its master through the cast's backward, in f32, where the
// gradients of several uses (tied embeddings) add up.
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

// The FFN configuration of a routed block (moe) or of a dense one (the spec's intermediate_size):
// also the op settings a research tool needs to run one expert layer again (act, selector, K_N,
// estimator, strategy).
FfnConfig ffn_config(const proto::ModelSpec& spec, bool moe);
// The op's selector for the spec's.
ops::NeuronSelector neuron_selector(proto::ModelSpec::NeuronSelector selector);

// Whether a model of `spec` runs on `device`: on CUDA, a neuron_selector other than ABS_GATE is
// refused naming the field (the CUDA kernels select by |G| only). Transformer::to and the train
// spec check call it.
Status check_runs_on(const proto::ModelSpec& spec, Device device);

class Transformer {
 public:
  // Builds the model and draws its weights; errors when the spec is invalid.
  static StatusOr<std::unique_ptr<Transformer>> create(const proto::ModelSpec& spec, uint64_t seed,
                                                       DType dtype = DType::kF32);

  // ids [B, T] (i32/i64), targets [B, T] or undefined. With targets: the losses; without: logits
  // [N, V] in the compute dtype. ids and targets are user data, checked on the host (the index
  // policy of ops/common.h: a CUDA tensor is read back once for it) before they are copied to the
  // model's device: an id outside [0, V), or a target outside it that is not -1 (ignored), is an
  // error naming the tensor and the position. caches (one per layer, on the model's device, in the
  // compute dtype) are for generation. capture_selections: every routed layer's FfnAux::routed is
  // filled.
  StatusOr<ModelOutput> forward(const Tensor& ids, const Tensor& targets, std::vector<KvCache>* caches = nullptr,
                                bool capture_selections = false) const;

  // Moves every parameter's value to `device` and drops the gradients; the values are copied
  // first and replaced only when every copy succeeded, so a failure leaves the model as it was.
  // checkpoint_tensors then slices the moved values (views on the device). Nothing happens when
  // the model is there already. Refused, naming the reason, when the compute dtype would not run
  // there (bf16 on the CPU) or the spec asks for what CUDA lacks (a neuron_selector other than ABS_GATE).
  Status to(Device device);
  Device device() const;

  // The dtype forward computes in: dtype() (the default), or bf16 when the parameters are f32 and
  // on CUDA. Anything else is an error that says why (the CPU kernels compute in f32 and f64).
  Status set_compute_dtype(DType dtype);
  DType compute_dtype() const { return compute_dtype_; }

  // Every parameter under its Hugging Face name, in a fixed order.
  const ParameterList& parameters() const { return params_; }
  const proto::ModelSpec& spec() const { return spec_; }
  DType dtype() const { return dtype_; }  // the parameters' (the masters' under mixed precision)

 private:
  struct Block {
    Variable input_norm, post_attention_norm;
    std::unique_ptr<Attention> attention;
    std::unique_ptr<Ffn> ffn;
  };
  Transformer() = default;

  proto::ModelSpec spec_;
  DType dtype_ = DType::kF32;
  DType compute_dtype_ = DType::kF32;
  Variable embed_, final_norm_, lm_head_;
  std::vector<Block> blocks_;
  ParameterList params_;
};

}  // namespace mone::models

// Example 3: training a tiny MoNE through the C++ API, in under 100 lines.
//
// The data is a made-up language: token t+1 = (3·token t + 1) mod V, restarted at random. A model
// that learns the rule predicts every next token; its loss falls from log V towards 0.
//
//   build/bin/example_03_train_tiny_mone
#include <cmath>
#include <cstdio>

#include "autograd/tape.h"
#include "core/rng.h"
#include "models/transformer.h"
#include "train/optimizer.h"

using namespace mone;

int main() {
  // 1. The model: a ModelSpec (proto/model.proto documents every field), here written inline.
  auto spec = models::parse_model_spec(R"(
      vocab_size: 32  hidden_size: 32  num_hidden_layers: 2  num_attention_heads: 2
      max_position_embeddings: 32  ffn_type: MONE  num_experts: 4  num_experts_per_tok: 2
      moe_intermediate_size: 32  num_shared_experts: 1  neuron_topk: 8)",
                                       "<example>");
  if (!spec.ok()) return std::fprintf(stderr, "%s\n", spec.status().ToString().c_str()), 1;
  auto model = value_or_die(models::Transformer::create(*spec, /*seed=*/1));
  models::ParameterList params = model->parameters();

  // 2. The optimizer: AdamW with clipping (train/optimizer.h).
  train::OptimizerConfig oc;
  oc.adamw.weight_decay = 0.0;
  train::AdamW opt = value_or_die(train::AdamW::create(params, oc));

  // 3. Batches of the made-up language: inputs [B, T] and targets (the next tokens).
  const int64_t B = 8, T = 16, V = 32;
  Generator gen(2);
  auto batch = [&](Tensor* ids, Tensor* targets) {
    const Tensor start = rand_uniform({B}, DType::kF64, gen);
    std::vector<int32_t> in(B * T), tg(B * T);
    for (int64_t b = 0; b < B; ++b) {
      int32_t tok = static_cast<int32_t>(start.data<double>()[b] * V);
      for (int64_t t = 0; t < T; ++t) {
        in[b * T + t] = tok;
        tok = (3 * tok + 1) % V;
        tg[b * T + t] = tok;
      }
    }
    *ids = value_or_die(Tensor::from_vector(in, {B, T}));
    *targets = value_or_die(Tensor::from_vector(tg, {B, T}));
  };

  // 4. The loop: forward (losses), backward (gradients), one AdamW step.
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    Tensor ids, targets;
    batch(&ids, &targets);
    models::ModelOutput out = value_or_die(model->forward(ids, targets));
    if (Status s = autograd::backward(out.loss); !s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
    train::StepResult r = value_or_die(opt.step(params, /*lr=*/3e-3, out.loss.value().item()));
    const double ce = out.ce.value().item();
    if (step == 0) first = ce;
    last = ce;
    if (step % 10 == 0 || step == 59) {
      std::printf("step %2d: cross-entropy %.4f (aux: balance %.3f, z %.3f, neuron %.3f), grad norm %.3f\n", step, ce,
                  out.load_balance.value().item(), out.z_loss.value().item(), out.neuron_loss.value().item(),
                  r.grad_norm);
    }
  }
  std::printf("cross-entropy %.4f -> %.4f (log V = %.4f)\n", first, last, std::log(static_cast<double>(V)));
  return last < 0.5 * first ? 0 : 1;  // it learnt the rule, or something is wrong
}

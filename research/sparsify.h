// The sparsification study (MONE.md, "What the paper reports", claim 1; post hoc, no retraining):
// every routed expert keeps only the top fraction `keep` of the neurons it uses now (D for a MoE,
// K_N for a MoNE), K_N' = max(1, round(keep · K_N)), ranked by a neuron selector (the model's own
// unless another is asked); with `shared`, every shared expert likewise keeps round(keep · its
// kept neurons). Each ratio is evaluated exactly as `mone eval` evaluates: the same batches, the
// same code; a ratio that changes nothing (keep 1 with the model's selector) is the checkpoint's
// own model, so its numbers are eval's, bit for bit.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "research/eval_input.h"

namespace mone::research {

struct SparsifyOptions {
  std::vector<double> keep;  // each in (0, 1], in the order reported
  std::optional<proto::ModelSpec::NeuronSelector> selector;  // default: the checkpoint's
  bool shared = false;
};

struct SparsifyPoint {
  double keep = 1;
  int64_t neuron_topk = 0;         // K_N' of every routed expert
  int64_t shared_neuron_topk = 0;  // neurons each shared expert keeps (0: no shared experts)
  double ce = 0, perplexity = 0, total_loss = 0;
};

struct SparsifyResult {
  std::string checkpoint, selector;
  int64_t width = 0, neuron_topk = 0;  // D, and the K_N the checkpoint uses
  int64_t batches = 0, tokens = 0;
  std::vector<SparsifyPoint> points;
};

// "1,0.8,0.5" -> {1, 0.8, 0.5}; errors name `flag` and the bad entry (not a number, not in (0, 1]).
StatusOr<std::vector<double>> parse_keep_ratios(const std::string& text, const std::string& flag);

StatusOr<SparsifyResult> run_sparsify(const EvalInput& input, const SparsifyOptions& options);

nlohmann::ordered_json sparsify_json(const SparsifyResult& r);
std::string sparsify_table(const SparsifyResult& r);  // one line per ratio
// DIR/sparsify.json, DIR/sparsify.csv and DIR/sparsify_loss.svg (CE against the kept fraction).
Status write_sparsify(const std::string& dir, const SparsifyResult& r);

}  // namespace mone::research

// Expert and neuron load over a window of training steps, for metrics.jsonl.
//
// Per MoE layer l: tokens routed to each expert, and for each (expert e, neuron j) the number of
// (token, e) pairs that kept neuron j. Over the window, with T_e the tokens expert e received:
//   rate_{e,j}       = count_{e,j} / T_e    (how often a token of e keeps neuron j; MoE: 1)
//   mean_rate        = mean of rate over (e, j) with T_e > 0   (= K_N / D: a sanity check)
//   max_rate         = max of rate                               (1: some neuron every token keeps)
//   active_fraction  = share of (e, j) with count > 0            (neurons ever selected)
// Dense layers report nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/communicator.h"
#include "core/status.h"
#include "models/ffn.h"

namespace mone::train {

class LoadStats {
 public:
  // Adds one forward pass's per-layer statistics (ModelOutput::layers).
  void add(const std::vector<models::FfnAux>& layers);
  void reset();
  // Data parallelism: every rank's counts become the sum over the ranks (one all-reduce), so the
  // logs describe the whole batch. Every rank must call it at the same step.
  Status sum_over_ranks(dist::Communicator& comm);
  bool empty() const { return tokens_.empty(); }

  // [[tokens per expert] per layer]
  nlohmann::ordered_json expert_load_json() const;
  // [{"active_fraction": f, "mean_rate": r, "max_rate": m} per layer]
  nlohmann::ordered_json neuron_load_json() const;

  // The raw counts of the window, {"tokens": [L][E], "neurons": [L][E][D]} (null when empty), for a
  // checkpoint: a resumed run then logs the same load as an uninterrupted one.
  nlohmann::json counts_json() const;
  // The inverse; errors name `source` (the file) when the shape is wrong.
  static StatusOr<LoadStats> from_counts_json(const nlohmann::json& counts, const std::string& source);

 private:
  std::vector<std::vector<int64_t>> tokens_;                // [L][E]
  std::vector<std::vector<std::vector<int64_t>>> neurons_;  // [L][E][D]
};

}  // namespace mone::train

// Expert and neuron load over a window of training steps, for metrics.jsonl.
//
// Per MoE layer l: tokens routed to each expert, and for each (expert e, neuron j) the number of
// (token, e) pairs that kept neuron j. Over the window, with T_e the tokens expert e received:
//   rate_{e,j}       = count_{e,j} / T_e    (how often a token of e keeps neuron j; MoE: 1)
//   mean_rate        = mean of rate over (e, j) with T_e > 0   (= K_N / D: a sanity check)
//   max_rate         = max of rate                               (1: some neuron every token keeps)
//   active_fraction  = share of (e, j) with count > 0            (neurons ever selected)
// Dense layers report nothing.
//
// add() sums each step's counts on the model's device (ops::add_into over i64): nothing is read
// back until a reader (the JSON, sum_over_ranks, counts_json) asks, at a logging step or a
// checkpoint, when the device's sums join the host's totals in one copy per layer.
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
  // Adds one forward pass's per-layer statistics (ModelOutput::layers), on their device.
  Status add(const std::vector<models::FfnAux>& layers);
  void reset();
  // Data parallelism: every rank's counts become the sum over the ranks (one all-reduce), so the
  // logs describe the whole batch. Every rank must call it at the same step.
  Status sum_over_ranks(dist::Communicator& comm);
  bool empty() const { return tokens_.empty() && pending_tokens_.empty(); }

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
  // Moves the device's sums into the host totals (one read per layer) and clears them.
  void flush() const;

  // Host totals of the window (mutable: the readers fold the pending device sums in first).
  mutable std::vector<std::vector<int64_t>> tokens_;                // [L][E]
  mutable std::vector<std::vector<std::vector<int64_t>>> neurons_;  // [L][E][D]
  // Device sums since the last flush, one per MoE layer: [E] and [E, D] i64.
  mutable std::vector<Tensor> pending_tokens_, pending_neurons_;
};

}  // namespace mone::train

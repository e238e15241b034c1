// Selection diagnostics of a MoE / MoNE checkpoint on evaluation batches (docs/RESEARCH.md,
// "mone analyze"), per routed layer and expert:
//   - the histogram of |G| over every (token, neuron) of the expert's rows;
//   - the histogram of the relative margin at the K_N boundary, (s_K − s_{K+1}) / |s_K|, where s
//     is the selector's score sorted descending (|G|, G, or |G·U|) and K = K_N: how close each
//     (token, expert) row's selection is to a tie (none for K_N = D);
//   - the sign mix of the used G (a slot is used when selected with G != 0: ABS_GATE_THRESHOLD's
//     spare slots are not), and the used slots per row;
//   - tokens per expert; each neuron's selection count and frequency (count / tokens of the
//     expert), their variance over the neurons, the entropy of the selection distribution
//     p_j = count_j / Σ count (nats, and divided by ln D), and the dead neurons (never used).
// Histograms: |G| in `bins` equal bins over [0, 1.25 · the largest |G| of the layer in batch 0]
// (larger values fall in the last bin and are counted in abs_g_overflow); the margin in bins of
// log10(relative margin) from -9 to 0 by 0.5, the first bin also holding every smaller margin
// (ties: margin 0) and the last every margin above 1 (SIGNED_GATE can exceed 1). So per expert
// the margin histogram sums to its tokens and the |G| histogram to tokens · D.
//
// Shape letters: L layers, E experts, D expert width, K_N neurons kept.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "research/eval_input.h"

namespace mone::research {

struct AnalyzeOptions {
  int64_t bins = 50;  // |G| histogram bins
};

struct ExpertStats {
  int64_t tokens = 0;                // rows routed to the expert
  int64_t used = 0;                  // selected slots with G != 0
  int64_t negative = 0, positive = 0;  // signs of the used G
  std::vector<int64_t> abs_g_hist;   // [bins]
  int64_t abs_g_overflow = 0;        // values above the last edge (inside the last bin)
  std::vector<int64_t> margin_hist;  // [margin bins]; empty when K_N = D
  int64_t margin_below_1e4 = 0, margin_below_1e5 = 0;
  int64_t near_act_minimum = 0;      // rows whose K_N-th |G| is within 1% of |min silu| (silu, |G| scores)
  std::vector<int64_t> neuron_counts;  // [D]

  // Derived (0 when the expert got no tokens).
  double frequency_mean() const;      // mean over neurons of count / tokens (= used per row / D)
  double frequency_variance() const;  // population variance over neurons of count / tokens
  double entropy() const;             // of p_j = count_j / Σ count, in nats
  int64_t dead() const;               // neurons with count 0
};

struct LayerStats {
  int64_t layer = 0;
  std::vector<double> abs_g_edges;  // [bins + 1]
  std::vector<ExpertStats> experts;  // [E]
};

struct AnalysisResult {
  std::string checkpoint, selector, activation;
  int64_t width = 0, neuron_topk = 0, batches = 0, tokens = 0;
  bool has_margin = false;                      // K_N < D
  bool has_act_minimum = false;                 // silu with an |G| score: near_act_minimum is meaningful
  std::vector<double> margin_edges;             // log10 edges
  std::vector<LayerStats> layers;               // routed layers, in order
};

StatusOr<AnalysisResult> run_analyze(const EvalInput& input, const AnalyzeOptions& options);

nlohmann::ordered_json analysis_json(const AnalysisResult& r);
std::string analysis_table(const AnalysisResult& r);  // one line per layer (experts summed / averaged)
// DIR/analysis.json, experts.csv, neurons.csv, and per layer layer{l}_abs_g.svg, layer{l}_margin.svg,
// layer{l}_neuron_load.svg (E × D heat map of selection frequency), plus tokens_per_expert.svg.
Status write_analysis(const std::string& dir, const AnalysisResult& r);

}  // namespace mone::research

// The verdicts of a reproduction study (scripts/reproduce.sh, docs/REPRODUCTION.md): reads
// STUDY/runs/SETTING/seedN/ (eval.json, analysis/analysis.json, sparsify/sparsify.json and the
// run's checkpoint), and states for each of the paper's claims, and for the K vs K_N sweep,
// whether it held, with the numbers behind the verdict.
//
// The noise rule: a setting's spread is max - min of its value over its seeds; a difference
// between two settings' seed means counts only when it is larger than the larger of their two
// spreads. Below that it is noise, whatever its sign.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mone::research {

// One value measured on every seed of a setting.
struct SeedValues {
  std::vector<double> values;  // one per seed, in seed order
  double mean() const;
  double spread() const;  // max - min (0 with one seed)
};

// One setting of the study: its runs and what was measured on them.
struct StudySetting {
  std::string name;                  // the directory under runs/
  std::vector<std::string> seeds;    // "seed1", ... (directory names, sorted)
  int64_t experts_per_token = 0;     // K
  int64_t neuron_topk = 0;           // K_N (D for MoE)
  int64_t expert_width = 0;          // D
  int64_t activated_params = 0;      // models::count_activated_params
  int64_t total_params = 0;
  std::string ffn_type, selector;    // "MOE" / "MONE"; "abs_gate", ...
  double neuron_aux_loss_coef = 0;
  SeedValues ce;                     // validation CE (eval.json's loss)
  int64_t eval_tokens = 0;           // eval.json's tokens (the same for every seed, else an error)
  SeedValues neuron_variance;        // mean over layers and experts with tokens of analyze's frequency_variance
  // Post-hoc sparsification (MoE settings): keep ratios and, per ratio, the CE over seeds.
  std::vector<double> keep;
  std::vector<SeedValues> sparsified_ce;
};

// A comparison of two settings' means under the noise rule.
struct Comparison {
  double a = 0, b = 0;           // the means
  double difference = 0;         // a - b
  double relative = 0;           // (a - b) / b
  double noise = 0;              // max of the two spreads
  bool beyond_noise() const { return difference > noise || -difference > noise; }
};
Comparison compare(const SeedValues& a, const SeedValues& b);

struct ClaimVerdict {
  std::string id;         // "pruning", "equal_total", "equal_activated", "ng_lbl"
  std::string claim;      // the paper's words
  std::string verdict;    // "held", "did not hold", "noise" (no difference beyond the seed spread), "not run"
  std::string evidence;   // the numbers, one sentence
};

struct StudySummary {
  std::string dir;
  std::vector<StudySetting> settings;
  std::vector<ClaimVerdict> claims;
  std::vector<ClaimVerdict> selectors;  // each selector against abs_gate
  std::string sweep_verdict;            // which split of the budget was best, or that the ranking is noise
};

// Reads STUDY/runs/*/seed*/ (settings with no finished run are skipped) and judges the claims.
// Errors name the file that is missing or malformed.
StatusOr<StudySummary> summarize_study(const std::string& study_dir);

std::string summary_markdown(const StudySummary& s);
nlohmann::ordered_json summary_json(const StudySummary& s);
// Writes summary.md, summary.json and sweep.svg (CE against K at the sweep's budget) into the study.
Status write_summary(const StudySummary& s);

}  // namespace mone::research

#include "research/claims.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/spec.h"
#include "models/spec_stats.h"
#include "models/transformer.h"
#include "ops/mone_ffn.h"
#include "report/charts.h"
#include "research/output.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "train/checkpoint/json_file.h"
#include "train/model_config.h"

namespace mone::research {
namespace {

namespace fs = std::filesystem;

constexpr double kWithinOnePercent = 0.01;  // claims 1 and 2: "costs little", "within 1%"

StatusOr<double> json_number(const nlohmann::json& j, const std::string& key, const std::string& path) {
  if (!j.contains(key) || !j[key].is_number()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no number \"", key, "\""));
  }
  return j[key].get<double>();
}

// The model a run trained: its newest checkpoint's config.json.
Status read_model(const std::string& run, StudySetting& s) {
  MONE_ASSIGN_OR_RETURN(std::string checkpoint, train::find_resumable_checkpoint(run));
  const std::string path = (fs::path(checkpoint) / "config.json").string();
  MONE_ASSIGN_OR_RETURN(nlohmann::json config, train::read_json_file(path));
  MONE_ASSIGN_OR_RETURN(proto::ModelSpec spec, train::model_spec_from_config_json(config, path));
  const bool mone = spec.ffn_type() == proto::ModelSpec::MONE;
  s.experts_per_token = spec.num_experts_per_tok();
  s.expert_width = spec.moe_intermediate_size();
  s.neuron_topk = mone ? models::effective_neuron_topk(spec) : s.expert_width;
  s.activated_params = models::count_activated_params(spec);
  s.total_params = models::count_params(spec).total();
  s.ffn_type = proto::ModelSpec::FfnType_Name(spec.ffn_type());
  s.selector = mone ? ops::neuron_selector_name(models::neuron_selector(spec.neuron_selector())) : "";
  s.neuron_aux_loss_coef = mone ? spec.neuron_aux_loss_coef() : 0.0;
  return absl::OkStatus();
}

// Mean over layers and experts that received tokens of analysis.json's frequency_variance.
StatusOr<double> mean_neuron_variance(const std::string& path) {
  MONE_ASSIGN_OR_RETURN(nlohmann::json j, train::read_json_file(path));
  double sum = 0;
  int64_t n = 0;
  for (const auto& layer : j.value("layers", nlohmann::json::array())) {
    for (const auto& e : layer.value("experts", nlohmann::json::array())) {
      if (e.value("tokens", int64_t{0}) == 0) continue;
      MONE_ASSIGN_OR_RETURN(double v, json_number(e, "frequency_variance", path));
      sum += v;
      ++n;
    }
  }
  if (n == 0) return absl::InvalidArgumentError(absl::StrCat(path, ": no expert with tokens"));
  return sum / static_cast<double>(n);
}

Status read_sparsify(const std::string& path, StudySetting& s) {
  MONE_ASSIGN_OR_RETURN(nlohmann::json j, train::read_json_file(path));
  std::vector<double> keep, ce;
  for (const auto& p : j.value("points", nlohmann::json::array())) {
    MONE_ASSIGN_OR_RETURN(double k, json_number(p, "keep", path));
    MONE_ASSIGN_OR_RETURN(double l, json_number(p, "loss", path));
    keep.push_back(k);
    ce.push_back(l);
  }
  if (s.sparsified_ce.empty()) {
    s.keep = keep;
    s.sparsified_ce.resize(keep.size());
  }
  if (keep != s.keep) return absl::InvalidArgumentError(absl::StrCat(path, ": other keep ratios than the first seed's"));
  for (size_t i = 0; i < ce.size(); ++i) s.sparsified_ce[i].values.push_back(ce[i]);
  return absl::OkStatus();
}

StatusOr<StudySetting> read_setting(const fs::path& dir) {
  StudySetting s;
  s.name = dir.filename().string();
  std::vector<fs::path> runs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("seed", 0) == 0 &&
        fs::exists(entry.path() / "eval.json")) {
      runs.push_back(entry.path());
    }
  }
  std::sort(runs.begin(), runs.end());
  for (const fs::path& run : runs) {
    s.seeds.push_back(run.filename().string());
    if (s.seeds.size() == 1) MONE_RETURN_IF_ERROR(read_model(run.string(), s));
    const std::string eval_path = (run / "eval.json").string();
    MONE_ASSIGN_OR_RETURN(nlohmann::json eval, train::read_json_file(eval_path));
    MONE_ASSIGN_OR_RETURN(double ce, json_number(eval, "loss", eval_path));
    MONE_ASSIGN_OR_RETURN(double tokens, json_number(eval, "tokens", eval_path));
    if (s.seeds.size() > 1 && static_cast<int64_t>(tokens) != s.eval_tokens) {
      return absl::InvalidArgumentError(absl::StrCat(eval_path, ": evaluated on ", tokens, " tokens, the first seed on ",
                                                     s.eval_tokens, "; evaluate every run on the same batches"));
    }
    s.eval_tokens = static_cast<int64_t>(tokens);
    s.ce.values.push_back(ce);
    const fs::path analysis = run / "analysis" / "analysis.json";
    if (fs::exists(analysis)) {
      MONE_ASSIGN_OR_RETURN(double v, mean_neuron_variance(analysis.string()));
      s.neuron_variance.values.push_back(v);
    }
    const fs::path sparsify = run / "sparsify" / "sparsify.json";
    if (fs::exists(sparsify)) MONE_RETURN_IF_ERROR(read_sparsify(sparsify.string(), s));
  }
  return s;
}

const StudySetting* find(const StudySummary& s, const std::string& name) {
  for (const StudySetting& x : s.settings) {
    if (x.name == name) return &x;
  }
  return nullptr;
}

std::string pct(double x) { return absl::StrFormat("%+.2f%%", 100.0 * x); }
std::string num(double x) { return absl::StrFormat("%.4f", x); }
std::string num_g(double x) { return absl::StrFormat("%.4g", x); }

std::string mean_spread(const SeedValues& v, std::string (*f)(double) = num) {
  return absl::StrCat(f(v.mean()), " ± ", f(v.spread() / 2));
}

ClaimVerdict not_run(const std::string& id, const std::string& claim, const std::string& missing) {
  return {id, claim, "not run", absl::StrCat("needs the setting(s) ", missing)};
}

// "held" when a is lower than b beyond the noise, "did not hold" when higher beyond it, else "noise".
std::string lower_verdict(const Comparison& c) {
  if (!c.beyond_noise()) return "noise";
  return c.difference < 0 ? "held" : "did not hold";
}

std::string comparison_evidence(const std::string& a, const std::string& b, const Comparison& c,
                                std::string (*f)(double)) {
  return absl::StrCat(a, " ", f(c.a), " vs ", b, " ", f(c.b), ": difference ", f(c.difference), " (", pct(c.relative),
                      "), seed spread ", f(c.noise), c.beyond_noise() ? " (beyond the spread)" : " (within the spread: noise)");
}

ClaimVerdict pruning_claim(const StudySummary& s) {
  const std::string claim = "pruning 60% of the activated neurons of an MoE costs little (at most 1% CE)";
  const StudySetting* moe = find(s, "moe");
  if (moe == nullptr || moe->keep.empty()) return not_run("pruning", claim, "moe (with its sparsify study)");
  size_t one = moe->keep.size(), cut = moe->keep.size();
  for (size_t i = 0; i < moe->keep.size(); ++i) {
    if (std::abs(moe->keep[i] - 1.0) < 1e-9) one = i;
    if (std::abs(moe->keep[i] - 0.4) < 1e-9) cut = i;
  }
  if (one == moe->keep.size() || cut == moe->keep.size()) return not_run("pruning", claim, "moe sparsified at keep 1 and 0.4");
  SeedValues increase;
  for (size_t k = 0; k < moe->sparsified_ce[one].values.size(); ++k) {
    const double full = moe->sparsified_ce[one].values[k];
    increase.values.push_back((moe->sparsified_ce[cut].values[k] - full) / full);
  }
  const double rel = increase.mean();
  ClaimVerdict v{"pruning", claim, rel <= kWithinOnePercent ? "held" : "did not hold", ""};
  v.evidence = absl::StrCat("MoE CE ", num(moe->sparsified_ce[one].mean()), " with every neuron, ",
                            num(moe->sparsified_ce[cut].mean()), " keeping 40% per routed expert (by |G|): ", pct(rel),
                            " (per seed ", pct(*std::min_element(increase.values.begin(), increase.values.end())), " to ",
                            pct(*std::max_element(increase.values.begin(), increase.values.end())),
                            "); the MoE seeds' CE spread is ", num(moe->ce.spread()));
  return v;
}

ClaimVerdict equal_total_claim(const StudySummary& s) {
  const std::string claim = "MoNE at K_N = D/4 is within 1% of MoE loss at equal total parameters";
  const StudySetting *mone = find(s, "mone"), *moe = find(s, "moe");
  if (mone == nullptr || moe == nullptr) return not_run("equal_total", claim, "mone and moe");
  const Comparison c = compare(mone->ce, moe->ce);
  return {"equal_total", claim, c.relative <= kWithinOnePercent ? "held" : "did not hold",
          comparison_evidence("MoNE CE", "MoE", c, num)};
}

ClaimVerdict equal_activated_claim(const StudySummary& s) {
  const std::string claim = "MoNE beats MoE at equal activated parameters";
  const StudySetting *mone = find(s, "mone"), *moe = find(s, "moe_same_activated");
  if (mone == nullptr || moe == nullptr) return not_run("equal_activated", claim, "mone and moe_same_activated");
  const Comparison c = compare(mone->ce, moe->ce);
  return {"equal_activated", claim, lower_verdict(c),
          absl::StrCat(comparison_evidence("MoNE CE", "MoE (K = 1)", c, num), "; activated parameters ",
                       mone->activated_params, " vs ", moe->activated_params)};
}

ClaimVerdict ng_lbl_claim(const StudySummary& s) {
  const std::string claim = "NG-LBL lowers neuron-load variance";
  const StudySetting *with = find(s, "mone"), *without = find(s, "mone_no_nglbl");
  if (with == nullptr || without == nullptr || with->neuron_variance.values.empty() ||
      without->neuron_variance.values.empty()) {
    return not_run("ng_lbl", claim, "mone and mone_no_nglbl (with their analysis)");
  }
  const Comparison c = compare(with->neuron_variance, without->neuron_variance);
  return {"ng_lbl", claim, lower_verdict(c),
          absl::StrCat(comparison_evidence("variance of neuron selection frequency with NG-LBL", "without", c, num_g),
                       "; CE ", num(with->ce.mean()), " vs ", num(without->ce.mean()))};
}

std::vector<const StudySetting*> sweep_settings(const StudySummary& s) {
  std::vector<const StudySetting*> out;
  for (const StudySetting& x : s.settings) {
    if (x.name == "moe" || x.name.rfind("sweep_", 0) == 0) out.push_back(&x);
  }
  std::sort(out.begin(), out.end(),
            [](const StudySetting* a, const StudySetting* b) { return a->experts_per_token < b->experts_per_token; });
  return out;
}

std::string sweep_verdict(const std::vector<const StudySetting*>& sweep) {
  if (sweep.size() < 2) return "not run (needs moe and the sweep_* settings)";
  std::vector<const StudySetting*> by_ce = sweep;
  std::sort(by_ce.begin(), by_ce.end(),
            [](const StudySetting* a, const StudySetting* b) { return a->ce.mean() < b->ce.mean(); });
  const Comparison c = compare(by_ce[1]->ce, by_ce[0]->ce);
  const std::string best = absl::StrCat("K = ", by_ce[0]->experts_per_token, ", K_N = ", by_ce[0]->neuron_topk);
  const std::string next = absl::StrCat("K = ", by_ce[1]->experts_per_token, ", K_N = ", by_ce[1]->neuron_topk);
  if (!c.beyond_noise()) {
    return absl::StrCat("noise: the lowest CE (", best, ", ", num(c.b), ") is not ahead of the next (", next, ", ",
                        num(c.a), ") by more than the seed spread (", num(c.noise), ")");
  }
  return absl::StrCat(best, " trained best (CE ", num(c.b), "), ahead of ", next, " (", num(c.a), ") by ",
                      num(c.difference), ", beyond the seed spread (", num(c.noise), ")");
}

}  // namespace

double SeedValues::mean() const {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (double v : values) s += v;
  return s / static_cast<double>(values.size());
}

double SeedValues::spread() const {
  if (values.empty()) return 0;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return *hi - *lo;
}

Comparison compare(const SeedValues& a, const SeedValues& b) {
  Comparison c;
  c.a = a.mean();
  c.b = b.mean();
  c.difference = c.a - c.b;
  c.relative = c.b != 0 ? c.difference / c.b : 0;
  c.noise = std::max(a.spread(), b.spread());
  return c;
}

StatusOr<StudySummary> summarize_study(const std::string& study_dir) {
  StudySummary s;
  s.dir = study_dir;
  const fs::path runs = fs::path(study_dir) / "runs";
  if (!fs::is_directory(runs)) {
    return absl::NotFoundError(absl::StrCat(runs.string(), ": no such directory (scripts/reproduce.sh writes it)"));
  }
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(runs)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& d : dirs) {
    MONE_ASSIGN_OR_RETURN(StudySetting setting, read_setting(d));
    if (!setting.seeds.empty()) s.settings.push_back(std::move(setting));
  }
  if (s.settings.empty()) return absl::NotFoundError(absl::StrCat(runs.string(), ": no finished run (runs/*/seed*/eval.json)"));
  s.claims = {pruning_claim(s), equal_total_claim(s), equal_activated_claim(s), ng_lbl_claim(s)};
  const StudySetting* base = find(s, "mone");
  for (const StudySetting& x : s.settings) {
    if (base == nullptr || x.ffn_type != "MONE" || x.selector == base->selector ||
        x.experts_per_token != base->experts_per_token || x.neuron_topk != base->neuron_topk) {
      continue;
    }
    const Comparison c = compare(x.ce, base->ce);
    const std::string verdict = !c.beyond_noise() ? "noise" : c.difference < 0 ? "better" : "worse";
    s.selectors.push_back({x.name, absl::StrCat(x.selector, " against abs_gate"), verdict,
                           comparison_evidence(absl::StrCat(x.selector, " CE"), "abs_gate", c, num)});
  }
  s.sweep_verdict = sweep_verdict(sweep_settings(s));
  return s;
}

std::string summary_markdown(const StudySummary& s) {
  size_t min_seeds = s.settings.front().seeds.size(), max_seeds = 0;
  for (const StudySetting& x : s.settings) {
    min_seeds = std::min(min_seeds, x.seeds.size());
    max_seeds = std::max(max_seeds, x.seeds.size());
  }
  int64_t min_tokens = s.settings.front().eval_tokens, max_tokens = 0;
  for (const StudySetting& x : s.settings) {
    min_tokens = std::min(min_tokens, x.eval_tokens);
    max_tokens = std::max(max_tokens, x.eval_tokens);
  }
  std::string md = absl::StrCat("# The MoNE paper in small: ", s.dir, "\n\n", s.settings.size(), " settings, ", min_seeds,
                                min_seeds == max_seeds ? "" : absl::StrCat(" to ", max_seeds),
                                " seeds each. CE is the validation cross-entropy of `mone eval` on the first ",
                                min_tokens, min_tokens == max_tokens ? "" : absl::StrCat(" to ", max_tokens),
                                " tokens of the validation shards (mean ± half the seed spread). A difference between "
                                "two settings counts only when it is larger than the larger of their seed spreads "
                                "(max - min over seeds); below that it is called noise.\n\n");
  if (min_seeds < 2) absl::StrAppend(&md, "**Fewer than two seeds: there is no spread, so nothing can be called noise.**\n\n");
  absl::StrAppend(&md, "## Claims\n\n| claim | verdict | evidence |\n|---|---|---|\n");
  for (const ClaimVerdict& c : s.claims) absl::StrAppend(&md, "| ", c.claim, " | **", c.verdict, "** | ", c.evidence, " |\n");
  absl::StrAppend(&md, "\n## Settings\n\n| setting | FFN | K | K_N | D | selector | activated params | total params | "
                       "seeds | CE | neuron-load variance |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const StudySetting& x : s.settings) {
    absl::StrAppend(&md, "| ", x.name, " | ", x.ffn_type, x.neuron_aux_loss_coef == 0 && x.ffn_type == "MONE" ? " (no NG-LBL)" : "",
                    " | ", x.experts_per_token, " | ", x.neuron_topk, " | ", x.expert_width, " | ",
                    x.selector.empty() ? "-" : x.selector, " | ", x.activated_params, " | ", x.total_params, " | ",
                    x.seeds.size(), " | ", mean_spread(x.ce), " | ",
                    x.neuron_variance.values.empty() ? "-" : mean_spread(x.neuron_variance, num_g), " |\n");
  }
  const StudySetting* moe = find(s, "moe");
  if (moe != nullptr && !moe->keep.empty()) {
    absl::StrAppend(&md, "\n## Post-hoc sparsification of the MoE (`mone sparsify`, by |G|)\n\n| keep | CE | vs keep 1 |\n|---|---|---|\n");
    for (size_t i = 0; i < moe->keep.size(); ++i) {
      const double rel = (moe->sparsified_ce[i].mean() - moe->sparsified_ce[0].mean()) / moe->sparsified_ce[0].mean();
      absl::StrAppend(&md, "| ", num_g(moe->keep[i]), " | ", mean_spread(moe->sparsified_ce[i]), " | ", pct(rel), " |\n");
    }
  }
  if (!s.selectors.empty()) {
    absl::StrAppend(&md, "\n## Neuron selectors (MoNE, same K and K_N)\n\n| setting | verdict | evidence |\n|---|---|---|\n");
    for (const ClaimVerdict& c : s.selectors) absl::StrAppend(&md, "| ", c.id, " | **", c.verdict, "** | ", c.evidence, " |\n");
  }
  const std::vector<const StudySetting*> sweep = sweep_settings(s);
  if (!sweep.empty()) {
    absl::StrAppend(&md, "\n## K against K_N at one activated-parameter budget\n\n| setting | K | K_N | activated params | CE |\n"
                         "|---|---|---|---|---|\n");
    for (const StudySetting* x : sweep) {
      absl::StrAppend(&md, "| ", x->name, " | ", x->experts_per_token, " | ", x->neuron_topk, " | ", x->activated_params,
                      " | ", mean_spread(x->ce), " |\n");
    }
  }
  absl::StrAppend(&md, "\nSweep: ", s.sweep_verdict, "\n");
  return md;
}

nlohmann::ordered_json summary_json(const StudySummary& s) {
  auto values = [](const SeedValues& v) {
    return nlohmann::ordered_json{{"values", v.values}, {"mean", v.mean()}, {"spread", v.spread()}};
  };
  auto verdicts = [](const std::vector<ClaimVerdict>& list) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const ClaimVerdict& c : list) {
      a.push_back({{"id", c.id}, {"claim", c.claim}, {"verdict", c.verdict}, {"evidence", c.evidence}});
    }
    return a;
  };
  nlohmann::ordered_json j = {{"study", s.dir}};
  j["claims"] = verdicts(s.claims);
  j["selectors"] = verdicts(s.selectors);
  j["sweep"] = s.sweep_verdict;
  j["settings"] = nlohmann::ordered_json::array();
  for (const StudySetting& x : s.settings) {
    nlohmann::ordered_json e = {{"name", x.name},
                                {"seeds", x.seeds},
                                {"ffn_type", x.ffn_type},
                                {"selector", x.selector},
                                {"experts_per_token", x.experts_per_token},
                                {"neuron_topk", x.neuron_topk},
                                {"moe_intermediate_size", x.expert_width},
                                {"neuron_aux_loss_coef", x.neuron_aux_loss_coef},
                                {"activated_params", x.activated_params},
                                {"total_params", x.total_params},
                                {"eval_tokens", x.eval_tokens},
                                {"ce", values(x.ce)}};
    if (!x.neuron_variance.values.empty()) e["neuron_variance"] = values(x.neuron_variance);
    if (!x.keep.empty()) {
      e["sparsify"] = nlohmann::ordered_json::array();
      for (size_t i = 0; i < x.keep.size(); ++i) {
        e["sparsify"].push_back({{"keep", x.keep[i]}, {"ce", values(x.sparsified_ce[i])}});
      }
    }
    j["settings"].push_back(std::move(e));
  }
  return j;
}

Status write_summary(const StudySummary& s) {
  MONE_RETURN_IF_ERROR(write_output(s.dir, "summary.md", summary_markdown(s)).status());
  MONE_RETURN_IF_ERROR(write_output(s.dir, "summary.json", summary_json(s).dump(2) + "\n").status());
  report::LineChart chart;
  chart.title = "validation CE at one activated-parameter budget";
  chart.x_label = "experts per token K (K_N falls as K grows)";
  chart.y_label = "validation CE";
  chart.markers = true;
  report::Series mean{"seed mean", {}, {}};
  size_t seeds = 0;
  const std::vector<const StudySetting*> sweep = sweep_settings(s);
  for (const StudySetting* x : sweep) {
    mean.x.push_back(static_cast<double>(x->experts_per_token));
    mean.y.push_back(x->ce.mean());
    seeds = std::max(seeds, x->ce.values.size());
  }
  for (size_t k = 0; k < seeds; ++k) {
    report::Series one{absl::StrCat("seed run ", k + 1), {}, {}};
    for (const StudySetting* x : sweep) {
      if (k >= x->ce.values.size()) continue;
      one.x.push_back(static_cast<double>(x->experts_per_token));
      one.y.push_back(x->ce.values[k]);
    }
    chart.series.push_back(std::move(one));
  }
  chart.series.push_back(std::move(mean));
  return write_output(s.dir, "sweep.svg", report::line_chart_svg(chart)).status();
}

}  // namespace mone::research

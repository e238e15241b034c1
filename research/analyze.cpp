#include "research/analyze.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "autograd/tape.h"
#include "models/spec.h"
#include "ops/matmul.h"
#include "ops/mone_ffn.h"
#include "report/charts.h"
#include "research/expert_rows.h"
#include "research/output.h"
#include "research/selections.h"

namespace mone::research {
namespace {

using proto::ModelSpec;

constexpr double kSiluMinimum = 0.2784645427610738;  // |min_a a·σ(a)|, at a = -1.2785
constexpr double kMarginLow = -9.0, kMarginStep = 0.5;
constexpr int kMarginBins = 18;  // [-9, 0] by 0.5

int margin_bin(double relative) {
  if (!(relative > 0)) return 0;
  const double l = std::log10(relative);
  return std::clamp(static_cast<int>(std::floor((l - kMarginLow) / kMarginStep)), 0, kMarginBins - 1);
}

// The selector's score of one neuron (larger first): |G|, G, or |G·U|.
double score_of(ModelSpec::NeuronSelector selector, double g, double u) {
  switch (selector) {
    case ModelSpec::SIGNED_GATE: return g;
    case ModelSpec::ABS_GATE_TIMES_UP: return std::abs(g * u);
    default: return std::abs(g);
  }
}

// One layer of one batch into `layer`: histograms, signs, counts and margins per expert.
Status add_layer(const LayerSelections& s, const Tensor& x, const Tensor& w_up, ModelSpec::NeuronSelector selector,
                 bool act_minimum, LayerStats& layer) {
  const int64_t D = s.width, K = s.kept;
  const int64_t bins = static_cast<int64_t>(layer.abs_g_edges.size()) - 1;
  const double top = layer.abs_g_edges.back();
  const bool margins = K < D;
  for (int64_t e = 0; e < s.experts; ++e) {
    ExpertStats& st = layer.experts[e];
    const int64_t r0 = s.offsets[e], r1 = s.offsets[e + 1];
    st.tokens += r1 - r0;
    if (r1 == r0) continue;
    std::vector<double> up;  // U of this expert's rows, for the |G·U| score
    if (selector == ModelSpec::ABS_GATE_TIMES_UP && margins) {
      MONE_ASSIGN_OR_RETURN(Tensor rows, x.slice(0, r0, r1));
      MONE_ASSIGN_OR_RETURN(Tensor w, expert_slice(w_up, e));
      MONE_ASSIGN_OR_RETURN(Tensor u, ops::matmul(rows, w, false, true));  // x W_upᵀ
      MONE_ASSIGN_OR_RETURN(up, host_vector<double>(u));
    }
    std::vector<double> score(D);
    for (int64_t r = r0; r < r1; ++r) {
      const double* g = s.g.data() + r * D;
      for (int64_t j = 0; j < D; ++j) {
        const double a = std::abs(g[j]);
        const int64_t b = std::min<int64_t>(static_cast<int64_t>(a / top * static_cast<double>(bins)), bins - 1);
        ++st.abs_g_hist[b];
        st.abs_g_overflow += a > top;
        score[j] = score_of(selector, g[j], up.empty() ? 0.0 : up[(r - r0) * D + j]);
      }
      for (int64_t k = 0; k < K; ++k) {
        if (!s.used(r, k)) continue;
        const double gv = g[s.idx[r * K + k]];
        ++st.used;
        st.negative += gv < 0;
        st.positive += gv > 0;
        ++st.neuron_counts[s.idx[r * K + k]];
      }
      if (!margins) continue;
      std::nth_element(score.begin(), score.begin() + K, score.end(), std::greater<double>());  // s_{K+1} at K
      const double next = score[K];
      const double kth = *std::min_element(score.begin(), score.begin() + K);
      const double relative = kth != 0 ? (kth - next) / std::abs(kth) : 0.0;
      ++st.margin_hist[margin_bin(relative)];
      st.margin_below_1e4 += relative < 1e-4;
      st.margin_below_1e5 += relative < 1e-5;
      st.near_act_minimum += act_minimum && std::abs(kth - kSiluMinimum) <= 0.01 * kSiluMinimum;
    }
  }
  return absl::OkStatus();
}

std::string layer_label(int64_t l) { return absl::StrCat("layer ", l); }

}  // namespace

double ExpertStats::frequency_mean() const {
  if (tokens == 0 || neuron_counts.empty()) return 0;
  return static_cast<double>(used) / static_cast<double>(tokens) / static_cast<double>(neuron_counts.size());
}

double ExpertStats::frequency_variance() const {
  if (tokens == 0 || neuron_counts.empty()) return 0;
  const double mean = frequency_mean();
  double v = 0;
  for (int64_t c : neuron_counts) {
    const double f = static_cast<double>(c) / static_cast<double>(tokens) - mean;
    v += f * f;
  }
  return v / static_cast<double>(neuron_counts.size());
}

double ExpertStats::entropy() const {
  if (used == 0) return 0;
  double h = 0;
  for (int64_t c : neuron_counts) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / static_cast<double>(used);
    h -= p * std::log(p);
  }
  return h;
}

int64_t ExpertStats::dead() const { return std::count(neuron_counts.begin(), neuron_counts.end(), 0); }

StatusOr<AnalysisResult> run_analyze(const EvalInput& input, const AnalyzeOptions& o) {
  const ModelSpec& spec = input.spec();
  if (!models::has_experts(spec)) {
    return absl::InvalidArgumentError(absl::StrCat(input.dir(), ": analyze needs routed experts (a MoE or MoNE ",
                                                   "checkpoint); this model's ffn_type is DENSE"));
  }
  if (o.bins < 1) return absl::InvalidArgumentError(absl::StrCat("--bins ", o.bins, ": must be >= 1"));
  AnalysisResult r;
  r.checkpoint = input.dir();
  r.selector = ops::neuron_selector_name(models::neuron_selector(spec.neuron_selector()));
  r.activation = spec.hidden_act() == ModelSpec::SILU ? "silu" : "sigmoid";
  r.width = spec.moe_intermediate_size();
  r.neuron_topk = models::effective_neuron_topk(spec);
  r.has_margin = r.neuron_topk < r.width;
  r.has_act_minimum = spec.hidden_act() == ModelSpec::SILU && spec.neuron_selector() != ModelSpec::SIGNED_GATE &&
                      spec.neuron_selector() != ModelSpec::ABS_GATE_TIMES_UP;
  for (int i = 0; i <= kMarginBins; ++i) r.margin_edges.push_back(kMarginLow + kMarginStep * i);
  const int64_t E = spec.num_experts(), D = r.width, K = spec.num_experts_per_tok();
  const int64_t n = input.batches();
  autograd::NoGradGuard no_grad;
  for (int64_t j = 0; j < n; ++j) {
    MONE_ASSIGN_OR_RETURN(EvalInput::Batch b, input.batch(j));
    MONE_ASSIGN_OR_RETURN(models::ModelOutput out, input.model().forward(b.ids, b.targets, nullptr, true));
    r.tokens += b.ids.numel();
    int64_t routed = 0;
    for (size_t l = 0; l < out.layers.size(); ++l) {
      const models::FfnCapture& c = out.layers[l].routed;
      if (!c.defined()) continue;
      MONE_ASSIGN_OR_RETURN(LayerSelections s, read_selections(c, K, true));
      if (j == 0) {  // the layer's stats, with its |G| bins from this first batch
        LayerStats ls;
        ls.layer = static_cast<int64_t>(l);
        double top = 0;
        for (double v : s.g) top = std::max(top, std::abs(v));
        top = top > 0 ? 1.25 * top : 1.0;
        for (int64_t i = 0; i <= o.bins; ++i) ls.abs_g_edges.push_back(top * static_cast<double>(i) / o.bins);
        ExpertStats empty;
        empty.abs_g_hist.assign(o.bins, 0);
        empty.margin_hist.assign(r.has_margin ? kMarginBins : 0, 0);
        empty.neuron_counts.assign(D, 0);
        ls.experts.assign(E, empty);
        r.layers.push_back(std::move(ls));
      }
      MONE_ASSIGN_OR_RETURN(Tensor w_up, stacked_expert_weight(input.model(), static_cast<int64_t>(l), "up_proj"));
      MONE_RETURN_IF_ERROR(add_layer(s, c.x, w_up, spec.neuron_selector(), r.has_act_minimum, r.layers[routed]));
      ++routed;
    }
  }
  r.batches = n;
  return r;
}

nlohmann::ordered_json analysis_json(const AnalysisResult& r) {
  nlohmann::ordered_json j = {{"checkpoint", r.checkpoint}, {"selector", r.selector},
                              {"activation", r.activation}, {"moe_intermediate_size", r.width},
                              {"neuron_topk", r.neuron_topk}, {"batches", r.batches},
                              {"tokens", r.tokens},          {"margin_log10_edges", r.margin_edges}};
  j["layers"] = nlohmann::ordered_json::array();
  for (const LayerStats& l : r.layers) {
    nlohmann::ordered_json lj = {{"layer", l.layer}, {"abs_g_edges", l.abs_g_edges}};
    lj["experts"] = nlohmann::ordered_json::array();
    for (size_t e = 0; e < l.experts.size(); ++e) {
      const ExpertStats& s = l.experts[e];
      nlohmann::ordered_json ej = {
          {"expert", e},
          {"tokens", s.tokens},
          {"used_per_token", s.tokens > 0 ? static_cast<double>(s.used) / static_cast<double>(s.tokens) : 0.0},
          {"negative_share", s.used > 0 ? static_cast<double>(s.negative) / static_cast<double>(s.used) : 0.0},
          {"positive_share", s.used > 0 ? static_cast<double>(s.positive) / static_cast<double>(s.used) : 0.0},
          {"frequency_mean", s.frequency_mean()},
          {"frequency_variance", s.frequency_variance()},
          {"entropy", s.entropy()},
          {"normalized_entropy", r.width > 1 ? s.entropy() / std::log(static_cast<double>(r.width)) : 0.0},
          {"dead_neurons", s.dead()},
          {"abs_g_hist", s.abs_g_hist},
          {"abs_g_overflow", s.abs_g_overflow}};
      if (r.has_margin) {
        ej["margin_hist"] = s.margin_hist;
        ej["margin_below_1e-4"] = s.margin_below_1e4;
        ej["margin_below_1e-5"] = s.margin_below_1e5;
      }
      if (r.has_margin && r.has_act_minimum) ej["kth_near_act_minimum"] = s.near_act_minimum;
      ej["neuron_counts"] = s.neuron_counts;
      lj["experts"].push_back(std::move(ej));
    }
    j["layers"].push_back(std::move(lj));
  }
  return j;
}

namespace {

// Sums of one layer's experts.
struct LayerTotals {
  int64_t tokens = 0, used = 0, negative = 0, dead = 0, below_1e4 = 0, below_1e5 = 0, near_min = 0;
  double variance = 0, norm_entropy = 0;  // averaged over experts with tokens
};

LayerTotals totals(const LayerStats& l, int64_t width) {
  LayerTotals t;
  int64_t active = 0;
  for (const ExpertStats& s : l.experts) {
    t.tokens += s.tokens, t.used += s.used, t.negative += s.negative, t.dead += s.dead();
    t.below_1e4 += s.margin_below_1e4, t.below_1e5 += s.margin_below_1e5, t.near_min += s.near_act_minimum;
    if (s.tokens == 0) continue;
    ++active;
    t.variance += s.frequency_variance();
    t.norm_entropy += width > 1 ? s.entropy() / std::log(static_cast<double>(width)) : 0.0;
  }
  if (active > 0) t.variance /= static_cast<double>(active), t.norm_entropy /= static_cast<double>(active);
  return t;
}

}  // namespace

std::string analysis_table(const AnalysisResult& r) {
  std::string t = absl::StrCat(r.checkpoint, ": selector ", r.selector, ", ", r.activation, ", D = ", r.width,
                               ", K_N = ", r.neuron_topk, ", ", r.batches, " batches (", r.tokens, " tokens)\n");
  absl::StrAppend(&t, "  layer  rows   used/row  G<0    margin<1e-4  margin<1e-5  K_N-th~|min silu|  ",
                  "freq var   norm entropy  dead\n");
  for (const LayerStats& l : r.layers) {
    const LayerTotals s = totals(l, r.width);
    absl::StrAppend(&t, absl::StrFormat("  %-5d %-6d %-9.3f %-6.3f %-12s %-12s %-18s %-10.4g %-13.4f %d\n", l.layer,
                                        s.tokens, ratio(s.used, s.tokens), ratio(s.negative, s.used),
                                        r.has_margin ? fmt(ratio(s.below_1e4, s.tokens)) : "-",
                                        r.has_margin ? fmt(ratio(s.below_1e5, s.tokens)) : "-",
                                        r.has_margin && r.has_act_minimum ? fmt(ratio(s.near_min, s.tokens)) : "-",
                                        s.variance, s.norm_entropy, s.dead));
  }
  return t;
}

Status write_analysis(const std::string& dir, const AnalysisResult& r) {
  MONE_RETURN_IF_ERROR(write_output(dir, "analysis.json", analysis_json(r).dump(1) + "\n").status());
  std::string experts =
      "layer,expert,tokens,used_per_token,negative_share,frequency_mean,frequency_variance,entropy,dead_neurons,"
      "margin_below_1e-4,margin_below_1e-5\n";
  std::string neurons = "layer,expert,neuron,count,frequency\n";
  for (const LayerStats& l : r.layers) {
    for (size_t e = 0; e < l.experts.size(); ++e) {
      const ExpertStats& s = l.experts[e];
      absl::StrAppend(&experts, l.layer, ",", e, ",", s.tokens, ",", fmt(ratio(s.used, s.tokens)), ",",
                      fmt(ratio(s.negative, s.used)), ",", fmt(s.frequency_mean()), ",", fmt(s.frequency_variance()),
                      ",", fmt(s.entropy()), ",", s.dead(), ",", s.margin_below_1e4, ",", s.margin_below_1e5, "\n");
      for (size_t j = 0; j < s.neuron_counts.size(); ++j) {
        absl::StrAppend(&neurons, l.layer, ",", e, ",", j, ",", s.neuron_counts[j], ",",
                        fmt(ratio(s.neuron_counts[j], s.tokens)), "\n");
      }
    }
  }
  MONE_RETURN_IF_ERROR(write_output(dir, "experts.csv", experts).status());
  MONE_RETURN_IF_ERROR(write_output(dir, "neurons.csv", neurons).status());

  report::Heatmap tokens;
  tokens.title = "tokens per expert";
  tokens.x_label = "expert";
  tokens.value_label = "tokens";
  for (const LayerStats& l : r.layers) {
    ++tokens.rows;
    tokens.cols = static_cast<int64_t>(l.experts.size());
    tokens.row_labels.push_back(layer_label(l.layer));
    for (const ExpertStats& s : l.experts) tokens.values.push_back(static_cast<double>(s.tokens));
  }
  MONE_RETURN_IF_ERROR(write_output(dir, "tokens_per_expert.svg", report::heatmap_svg(tokens)).status());
  for (const LayerStats& l : r.layers) {
    const std::string name = absl::StrCat("layer", l.layer);
    report::Histogram g;
    g.title = absl::StrCat(layer_label(l.layer), ": |G| over every (token, neuron)");
    g.x_label = "|G|";
    g.edges = l.abs_g_edges;
    g.counts.assign(l.abs_g_edges.size() - 1, 0.0);
    for (const ExpertStats& s : l.experts) {
      for (size_t i = 0; i < s.abs_g_hist.size(); ++i) g.counts[i] += static_cast<double>(s.abs_g_hist[i]);
    }
    g.log_y = true;
    MONE_RETURN_IF_ERROR(write_output(dir, name + "_abs_g.svg", report::histogram_svg(g)).status());
    if (r.has_margin) {
      report::Histogram m;
      m.title = absl::StrCat(layer_label(l.layer), ": relative margin at the K_N boundary");
      m.x_label = "log10((s_K - s_K+1) / |s_K|)   (first bin: ties and below)";
      m.y_label = "rows";
      m.edges = r.margin_edges;
      m.counts.assign(kMarginBins, 0.0);
      for (const ExpertStats& s : l.experts) {
        for (int i = 0; i < kMarginBins; ++i) m.counts[i] += static_cast<double>(s.margin_hist[i]);
      }
      MONE_RETURN_IF_ERROR(write_output(dir, name + "_margin.svg", report::histogram_svg(m)).status());
    }
    report::Heatmap load;
    load.title = absl::StrCat(layer_label(l.layer), ": neuron selection frequency");
    load.x_label = "neuron";
    load.value_label = "count / tokens";
    load.rows = static_cast<int64_t>(l.experts.size());
    load.cols = r.width;
    for (size_t e = 0; e < l.experts.size(); ++e) {
      load.row_labels.push_back(absl::StrCat("expert ", e));
      for (int64_t c : l.experts[e].neuron_counts) load.values.push_back(ratio(c, l.experts[e].tokens));
    }
    MONE_RETURN_IF_ERROR(write_output(dir, name + "_neuron_load.svg", report::heatmap_svg(load)).status());
  }
  return absl::OkStatus();
}

}  // namespace mone::research

#include "research/gradstudy.h"

#include <cmath>
#include <map>
#include <sys/stat.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "autograd/tape.h"
#include "core/file_io.h"
#include "models/spec.h"
#include "ops/matmul.h"
#include "ops/mone_ffn.h"
#include "report/charts.h"
#include "research/expert_rows.h"
#include "research/output.h"
#include "train/checkpointing.h"
#include "train/evaluate.h"
#include "train/optimizer.h"

namespace mone::research {
namespace {

using proto::ModelSpec;

const char* const kPassNames[] = {"hard", "straight_through", "dense"};

// One pass's model and, per batch and routed layer, its selections (the HARD pass keeps them to
// compare with after the optimizer step).
struct PassRun {
  std::unique_ptr<models::Transformer> model;
  double loss = 0;  // mean over the batches
};

// Adds one routed layer's selected and total gradient mass (see gradstudy.h) for one pass.
// idx: the selected neurons to count, [R, K_N] (the capture's, or the would-be selection).
Status add_mass(const models::FfnCapture& c, const Tensor& idx_t, const Tensor& w_up, const Tensor& w_down, Pass pass,
                LayerMass& m) {
  if (!c.y.has_grad()) return absl::OkStatus();  // no gradient reached the experts' output
  MONE_ASSIGN_OR_RETURN(const std::vector<int64_t> offsets, host_vector<int64_t>(c.offsets));
  MONE_ASSIGN_OR_RETURN(const std::vector<int32_t> idx, host_vector<int32_t>(idx_t));
  MONE_ASSIGN_OR_RETURN(const std::vector<double> g, host_vector<double>(c.g));
  const int64_t D = c.g.size(1), K = idx_t.size(1);
  std::vector<char> selected(D);
  for (size_t e = 0; e + 1 < offsets.size(); ++e) {
    const int64_t r0 = offsets[e], r1 = offsets[e + 1];
    if (r1 == r0) continue;
    MONE_ASSIGN_OR_RETURN(Tensor x, c.x.slice(0, r0, r1));
    MONE_ASSIGN_OR_RETURN(Tensor dy, c.y.grad().slice(0, r0, r1));
    MONE_ASSIGN_OR_RETURN(Tensor wu, expert_slice(w_up, static_cast<int64_t>(e)));
    MONE_ASSIGN_OR_RETURN(Tensor wd, expert_slice(w_down, static_cast<int64_t>(e)));
    MONE_ASSIGN_OR_RETURN(Tensor u_t, ops::matmul(x, wu, false, true));  // U = x W_upᵀ   [T_e, D]
    MONE_ASSIGN_OR_RETURN(Tensor dh_t, ops::matmul(dy, wd));             // dH = dy W_down [T_e, D]
    MONE_ASSIGN_OR_RETURN(const std::vector<double> u, host_vector<double>(u_t));
    MONE_ASSIGN_OR_RETURN(const std::vector<double> dh, host_vector<double>(dh_t));
    for (int64_t r = r0; r < r1; ++r) {
      std::fill(selected.begin(), selected.end(), 0);
      for (int64_t k = 0; k < K; ++k) {  // used slots only: ABS_GATE_THRESHOLD's spare slots have G = 0
        const int32_t j = idx[r * K + k];
        selected[j] = g[r * D + j] != 0.0;
      }
      for (int64_t j = 0; j < D; ++j) {
        const double h = dh[(r - r0) * D + j];
        const double dG = h * u[(r - r0) * D + j], du = h * g[r * D + j];
        m.gate_all[pass] += dG * dG;
        m.up_all[pass] += du * du;
        if (selected[j]) m.gate_selected[pass] += dG * dG, m.up_selected[pass] += du * du;
      }
    }
  }
  return absl::OkStatus();
}

// The neurons the checkpoint's own MoNE layer would select on these rows (the dense pass keeps all).
StatusOr<Tensor> would_select(const models::FfnCapture& c, const Tensor& w_gate, const Tensor& w_up,
                              const Tensor& w_down, const ops::MoneFfnConfig& config) {
  MONE_ASSIGN_OR_RETURN(ops::MoneFfnForward f, ops::mone_ffn_forward(c.x, c.offsets, w_gate, w_up, w_down, config));
  return f.idx;
}

// Forward and backward over every batch; the mass of every routed layer into `mass` (created on
// the first call), and the HARD pass's selections into `selections` [batch][layer] when given.
Status run_pass(const EvalInput& input, const GradstudyOptions& o, Pass pass, const ops::MoneFfnConfig& mone_config,
                PassRun& run, std::vector<LayerMass>& mass,
                std::vector<std::vector<LayerSelections>>* selections) {
  models::ParameterList params = run.model->parameters();
  train::zero_grads(params);
  const int64_t n = input.batches(), K = input.spec().num_experts_per_tok();
  for (int64_t j = 0; j < n; ++j) {
    MONE_ASSIGN_OR_RETURN(EvalInput::Batch b, input.batch(j));
    MONE_ASSIGN_OR_RETURN(models::ModelOutput out, run.model->forward(b.ids, b.targets, nullptr, true));
    const autograd::Variable& loss = o.ce_only ? out.ce : out.loss;
    MONE_ASSIGN_OR_RETURN(const std::vector<double> value, host_vector<double>(loss.value()));
    run.loss += value[0] / static_cast<double>(n);
    MONE_RETURN_IF_ERROR(train::backward_mean(loss, n));
    if (selections) selections->emplace_back();
    size_t routed = 0;
    for (size_t l = 0; l < out.layers.size(); ++l) {
      const models::FfnCapture& c = out.layers[l].routed;
      if (!c.defined()) continue;
      if (mass.size() <= routed) {
        LayerMass m;
        m.layer = static_cast<int64_t>(l);
        mass.push_back(m);
      }
      MONE_ASSIGN_OR_RETURN(Tensor wg, stacked_expert_weight(*run.model, static_cast<int64_t>(l), "gate_proj"));
      MONE_ASSIGN_OR_RETURN(Tensor wu, stacked_expert_weight(*run.model, static_cast<int64_t>(l), "up_proj"));
      MONE_ASSIGN_OR_RETURN(Tensor wd, stacked_expert_weight(*run.model, static_cast<int64_t>(l), "down_proj"));
      Tensor idx = c.idx;
      if (pass == kDensePass) {
        MONE_ASSIGN_OR_RETURN(idx, would_select(c, wg, wu, wd, mone_config));
      }
      MONE_RETURN_IF_ERROR(add_mass(c, idx, wu, wd, pass, mass[routed]));
      if (selections) {
        MONE_ASSIGN_OR_RETURN(LayerSelections s, read_selections(c, K, false));
        selections->back().push_back(std::move(s));
      }
      ++routed;
    }
  }
  return absl::OkStatus();
}

// One AdamW step from the checkpoint on the pass's gradients, then the selections of every batch
// compared with `before` (the HARD pass's, made with the same weights).
Status step_and_compare(const EvalInput& input, const train::OptimizerConfig& config, bool load_moments, double lr,
                        PassRun& run, const std::vector<std::vector<LayerSelections>>& before,
                        std::vector<LayerFlips>& flips, bool straight_through) {
  models::ParameterList params = run.model->parameters();
  MONE_ASSIGN_OR_RETURN(train::AdamW opt, train::AdamW::create(params, config));
  if (load_moments) MONE_RETURN_IF_ERROR(train::load_optimizer_state(input.dir(), params, opt));
  MONE_RETURN_IF_ERROR(opt.step(params, lr, run.loss).status());
  autograd::NoGradGuard no_grad;
  const int64_t K = input.spec().num_experts_per_tok();
  for (int64_t j = 0; j < input.batches(); ++j) {
    MONE_ASSIGN_OR_RETURN(EvalInput::Batch b, input.batch(j));
    MONE_ASSIGN_OR_RETURN(models::ModelOutput out, run.model->forward(b.ids, b.targets, nullptr, true));
    size_t routed = 0;
    for (const models::FfnAux& aux : out.layers) {
      if (!aux.routed.defined()) continue;
      MONE_ASSIGN_OR_RETURN(LayerSelections after, read_selections(aux.routed, K, false));
      const SelectionFlips f = compare_selections(before[j][routed], after);
      (straight_through ? flips[routed].straight_through : flips[routed].hard) += f;
      ++routed;
    }
  }
  return absl::OkStatus();
}

struct Dots {
  double hh = 0, ss = 0, dd = 0, hs = 0, hd = 0, sd = 0;
};

double cosine(double ab, double aa, double bb) { return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0; }

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::pair<int64_t, std::string> parameter_group(const std::string& name) {
  static const std::map<std::string, std::string> outside = {
      {"model.embed_tokens.weight", "embed"}, {"model.norm.weight", "final_norm"}, {"lm_head.weight", "lm_head"}};
  if (auto it = outside.find(name); it != outside.end()) return {-1, it->second};
  const std::vector<std::string> parts = absl::StrSplit(name, '.');
  int64_t layer = -1;
  if (parts.size() < 4 || parts[0] != "model" || parts[1] != "layers" || !absl::SimpleAtoi(parts[2], &layer)) {
    return {-1, name};
  }
  const std::string& block = parts[3];
  if (block == "self_attn") return {layer, "attention"};
  if (block == "input_layernorm" || block == "post_attention_layernorm") return {layer, "norms"};
  if (block != "mlp" || parts.size() < 5) return {layer, block};
  const std::string& part = parts[4];
  const std::string kind = parts[parts.size() - 2];  // gate_proj, up_proj, down_proj, gate (router)
  const std::string short_kind = kind.substr(0, kind.find("_proj"));
  if (part == "gate" && parts.size() == 6) return {layer, "router"};
  if (part == "experts") return {layer, "experts." + short_kind};
  if (part == "shared_expert" || part == "shared_experts") return {layer, "shared." + short_kind};
  return {layer, "mlp." + short_kind};  // the dense FFN
}

StatusOr<GradstudyResult> run_gradstudy(const EvalInput& input, const GradstudyOptions& o) {
  const ModelSpec& spec = input.spec();
  if (!models::has_experts(spec)) {
    return absl::InvalidArgumentError(absl::StrCat(input.dir(), ": gradstudy needs routed experts (a MoE or MoNE ",
                                                   "checkpoint); this model's ffn_type is DENSE"));
  }
  GradstudyResult r;
  r.checkpoint = input.dir();
  r.selector = ops::neuron_selector_name(models::neuron_selector(spec.neuron_selector()));
  r.loss = o.ce_only ? "ce" : "total";
  r.dtype = dtype_name(input.dtype());
  r.width = spec.moe_intermediate_size();
  r.neuron_topk = models::effective_neuron_topk(spec);
  r.batches = input.batches();
  r.tokens = r.batches * input.batch_size() * input.seq_len();

  PassRun runs[3];
  MONE_ASSIGN_OR_RETURN(runs[kHardPass].model,
                        input.load_variant([](ModelSpec& s) { s.set_neuron_topk_backward(ModelSpec::HARD); }));
  MONE_ASSIGN_OR_RETURN(runs[kStraightThroughPass].model, input.load_variant([](ModelSpec& s) {
    s.set_neuron_topk_backward(ModelSpec::STRAIGHT_THROUGH);
  }));
  MONE_ASSIGN_OR_RETURN(runs[kDensePass].model, input.load_variant([](ModelSpec& s) {
    s.set_ffn_type(ModelSpec::MOE);  // every neuron of every expert (shared ones too)
    s.set_neuron_selector(ModelSpec::ABS_GATE);
    s.set_sparsify_shared_expert(false);
    s.set_shared_expert_neuron_topk(0);
  }));
  const ops::MoneFfnConfig mone_config = models::ffn_config(spec, true).expert(r.neuron_topk);
  std::vector<std::vector<LayerSelections>> before;  // [batch][routed layer], from the HARD pass
  for (Pass p : {kHardPass, kStraightThroughPass, kDensePass}) {
    MONE_RETURN_IF_ERROR(run_pass(input, o, p, mone_config, runs[p], r.mass, p == kHardPass ? &before : nullptr));
  }
  r.loss_value = runs[kHardPass].loss;

  // Norms and cosines per group, parameter by parameter (the three models list the same parameters).
  std::vector<std::pair<int64_t, std::string>> order;  // groups in first-seen order
  std::map<std::pair<int64_t, std::string>, Dots> dots;
  const models::ParameterList& ph = runs[kHardPass].model->parameters();
  const models::ParameterList& ps = runs[kStraightThroughPass].model->parameters();
  const models::ParameterList& pd = runs[kDensePass].model->parameters();
  auto values = [](const autograd::Variable& v) -> StatusOr<std::vector<double>> {
    if (!v.has_grad()) return std::vector<double>(v.value().numel(), 0.0);
    return host_vector<double>(v.grad());
  };
  for (size_t i = 0; i < ph.size(); ++i) {
    const auto key = parameter_group(ph[i].name);
    if (!dots.count(key)) order.push_back(key);
    Dots& t = dots[key];
    MONE_ASSIGN_OR_RETURN(const std::vector<double> h, values(ph[i].param));
    MONE_ASSIGN_OR_RETURN(const std::vector<double> st, values(ps[i].param));
    MONE_ASSIGN_OR_RETURN(const std::vector<double> d, values(pd[i].param));
    for (size_t k = 0; k < h.size(); ++k) {
      t.hh += h[k] * h[k], t.ss += st[k] * st[k], t.dd += d[k] * d[k];
      t.hs += h[k] * st[k], t.hd += h[k] * d[k], t.sd += st[k] * d[k];
    }
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& key : order) {
    const Dots& t = dots[key];
    r.groups.push_back({key.first, key.second, std::sqrt(t.hh), std::sqrt(t.ss), std::sqrt(t.dd),
                        cosine(t.hs, t.hh, t.ss), cosine(t.hd, t.hh, t.dd), cosine(t.sd, t.ss, t.dd)});
  }

  // One optimizer step under each estimator, then the flips.
  train::OptimizerConfig config;
  double lr = 0;
  if (input.trained_spec()) {
    config = train::optimizer_config(*input.trained_spec());
    lr = input.trained_spec()->lr();
  }
  if (StatusOr<train::TrainerState> state = train::read_trainer_state(input.dir()); state.ok() && state->lr > 0) {
    lr = state->lr;
  }
  if (o.lr) {
    if (!(*o.lr >= 0 && std::isfinite(*o.lr))) {
      return absl::InvalidArgumentError(absl::StrCat("--lr ", *o.lr, ": must be a finite number >= 0"));
    }
    lr = *o.lr;
  } else if (!(lr > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(input.dir(), ": records no learning rate; pass --lr"));
  }
  r.lr = lr;
  const bool moments = exists(join_path(input.dir(), train::kOptimizerFileName));
  r.moments = moments ? "checkpoint" : "fresh";
  for (const LayerMass& m : r.mass) {
    LayerFlips f;
    f.layer = m.layer;
    r.flips.push_back(f);
  }
  MONE_RETURN_IF_ERROR(step_and_compare(input, config, moments, lr, runs[kHardPass], before, r.flips, false));
  MONE_RETURN_IF_ERROR(step_and_compare(input, config, moments, lr, runs[kStraightThroughPass], before, r.flips, true));
  return r;
}

namespace {

nlohmann::ordered_json flips_json(const SelectionFlips& f) {
  return {{"tokens", f.tokens},
          {"tokens_rerouted", f.tokens_rerouted},
          {"pairs", f.pairs},
          {"pairs_changed", f.pairs_changed},
          {"neurons_swapped", f.neurons_swapped}};
}

}  // namespace

nlohmann::ordered_json gradstudy_json(const GradstudyResult& r) {
  nlohmann::ordered_json j = {{"checkpoint", r.checkpoint}, {"selector", r.selector}, {"loss", r.loss},
                              {"dtype", r.dtype},           {"moe_intermediate_size", r.width},
                              {"neuron_topk", r.neuron_topk}, {"batches", r.batches},
                              {"tokens", r.tokens},         {"loss_value", r.loss_value},
                              {"lr", r.lr},                 {"moments", r.moments}};
  j["groups"] = nlohmann::ordered_json::array();
  for (const GroupGradients& g : r.groups) {
    j["groups"].push_back({{"layer", g.layer},
                           {"group", g.group},
                           {"norm_hard", g.norm_hard},
                           {"norm_straight_through", g.norm_st},
                           {"norm_dense", g.norm_dense},
                           {"cos_hard_straight_through", g.cos_hard_st},
                           {"cos_hard_dense", g.cos_hard_dense},
                           {"cos_straight_through_dense", g.cos_st_dense}});
  }
  j["selected_mass"] = nlohmann::ordered_json::array();
  for (const LayerMass& m : r.mass) {
    nlohmann::ordered_json mj = {{"layer", m.layer}};
    for (Pass p : {kHardPass, kStraightThroughPass, kDensePass}) {
      mj[kPassNames[p]] = {{"gate_share", m.gate_share(p)}, {"up_share", m.up_share(p)}};
    }
    j["selected_mass"].push_back(std::move(mj));
  }
  j["flips_after_one_step"] = nlohmann::ordered_json::array();
  for (const LayerFlips& f : r.flips) {
    j["flips_after_one_step"].push_back(
        {{"layer", f.layer}, {"hard", flips_json(f.hard)}, {"straight_through", flips_json(f.straight_through)}});
  }
  return j;
}

std::string gradstudy_table(const GradstudyResult& r) {
  std::string t = absl::StrCat(r.checkpoint, ": selector ", r.selector, ", D = ", r.width, ", K_N = ", r.neuron_topk,
                               "; gradient of the mean ", r.loss, " loss (", fmt(r.loss_value), ") over ", r.batches,
                               " batches, ", r.dtype, "\n");
  absl::StrAppend(&t, "  layer  group          |g| hard     |g| st       |g| dense    cos(h,st)  cos(h,dense)  cos(st,dense)\n");
  for (const GroupGradients& g : r.groups) {
    absl::StrAppend(&t, absl::StrFormat("  %-6s %-14s %-12.5g %-12.5g %-12.5g %-10.6f %-13.6f %.6f\n",
                                        g.layer < 0 ? "-" : std::to_string(g.layer), g.group, g.norm_hard, g.norm_st,
                                        g.norm_dense, g.cos_hard_st, g.cos_hard_dense, g.cos_st_dense));
  }
  absl::StrAppend(&t, "  share of the gradient mass on the selected neurons (dG = dH·U, du = dH·G over all D):\n",
                  "  layer  gate: hard    st        dense     up: hard      st        dense\n");
  for (const LayerMass& m : r.mass) {
    absl::StrAppend(&t, absl::StrFormat("  %-6d       %-9.4f %-9.4f %-9.4f     %-9.4f %-9.4f %.4f\n", m.layer,
                                        m.gate_share(kHardPass), m.gate_share(kStraightThroughPass),
                                        m.gate_share(kDensePass), m.up_share(kHardPass),
                                        m.up_share(kStraightThroughPass), m.up_share(kDensePass)));
  }
  absl::StrAppend(&t, "  selections after one AdamW step (lr ", fmt(r.lr), ", moments ", r.moments, "), hard / st:\n",
                  "  layer  tokens rerouted      pairs changed        neurons swapped per pair\n");
  for (const LayerFlips& f : r.flips) {
    absl::StrAppend(&t, absl::StrFormat("  %-6d %-8.4f %-11.4f %-8.4f %-11.4f %-8.4f %.4f\n", f.layer,
                                        ratio(f.hard.tokens_rerouted, f.hard.tokens),
                                        ratio(f.straight_through.tokens_rerouted, f.straight_through.tokens),
                                        ratio(f.hard.pairs_changed, f.hard.pairs),
                                        ratio(f.straight_through.pairs_changed, f.straight_through.pairs),
                                        ratio(f.hard.neurons_swapped, f.hard.pairs),
                                        ratio(f.straight_through.neurons_swapped, f.straight_through.pairs)));
  }
  return t;
}

Status write_gradstudy(const std::string& dir, const GradstudyResult& r) {
  MONE_RETURN_IF_ERROR(write_output(dir, "gradstudy.json", gradstudy_json(r).dump(2) + "\n").status());
  std::string csv = "layer,group,norm_hard,norm_straight_through,norm_dense,cos_hard_straight_through,cos_hard_dense,"
                    "cos_straight_through_dense\n";
  for (const GroupGradients& g : r.groups) {
    absl::StrAppend(&csv, g.layer, ",", g.group, ",", fmt(g.norm_hard), ",", fmt(g.norm_st), ",", fmt(g.norm_dense),
                    ",", fmt(g.cos_hard_st), ",", fmt(g.cos_hard_dense), ",", fmt(g.cos_st_dense), "\n");
  }
  MONE_RETURN_IF_ERROR(write_output(dir, "gradstudy.csv", csv).status());
  report::LineChart chart;
  chart.title = "cosine with the dense gradient, per layer";
  chart.x_label = "layer";
  chart.y_label = "cosine";
  chart.markers = true;
  for (const char* group : {"experts.gate", "experts.up", "experts.down"}) {
    report::Series hard{absl::StrCat("hard ", group), {}, {}}, st{absl::StrCat("st ", group), {}, {}};
    for (const GroupGradients& g : r.groups) {
      if (g.group != group) continue;
      hard.x.push_back(static_cast<double>(g.layer));
      hard.y.push_back(g.cos_hard_dense);
      st.x.push_back(static_cast<double>(g.layer));
      st.y.push_back(g.cos_st_dense);
    }
    chart.series.push_back(hard);
    chart.series.push_back(st);
  }
  chart.width = 720;
  return write_output(dir, "gradstudy_cosine.svg", report::line_chart_svg(chart)).status();
}

}  // namespace mone::research

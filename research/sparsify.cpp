#include "research/sparsify.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_split.h"
#include "models/spec.h"
#include "models/transformer.h"
#include "ops/mone_ffn.h"
#include "report/charts.h"
#include "research/output.h"
#include "train/evaluate.h"

namespace mone::research {
namespace {

using proto::ModelSpec;

int64_t scaled(double keep, int64_t n) { return std::max<int64_t>(1, std::llround(keep * static_cast<double>(n))); }

}  // namespace

StatusOr<std::vector<double>> parse_keep_ratios(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  const std::vector<std::string> parts = absl::StrSplit(text, ',');
  for (const std::string& part : parts) {
    char* end = nullptr;
    const double v = std::strtod(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() || !(v > 0 && v <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " ", text, ": \"", part, "\" is not a kept fraction in (0, 1]"));
    }
    out.push_back(v);
  }
  return out;
}

StatusOr<SparsifyResult> run_sparsify(const EvalInput& input, const SparsifyOptions& o) {
  const ModelSpec& spec = input.spec();
  if (!models::has_experts(spec)) {
    return absl::InvalidArgumentError(absl::StrCat(input.dir(), ": sparsify needs routed experts (a MoE or MoNE ",
                                                   "checkpoint); this model's ffn_type is DENSE"));
  }
  if (o.keep.empty()) return absl::InvalidArgumentError("sparsify: no keep ratios");
  const ModelSpec::NeuronSelector selector = o.selector.value_or(spec.neuron_selector());
  const int64_t k_n = models::effective_neuron_topk(spec);
  const int64_t shared_kept = spec.num_shared_experts() > 0 ? models::shared_expert_neuron_topk(spec) : 0;
  SparsifyResult r;
  r.checkpoint = input.dir();
  r.selector = ops::neuron_selector_name(models::neuron_selector(selector));
  r.width = spec.moe_intermediate_size();
  r.neuron_topk = k_n;
  for (double keep : o.keep) {
    SparsifyPoint p;
    p.keep = keep;
    p.neuron_topk = scaled(keep, k_n);
    p.shared_neuron_topk = o.shared && shared_kept > 0 ? scaled(keep, shared_kept) : shared_kept;
    const bool unchanged = p.neuron_topk == k_n && p.shared_neuron_topk == shared_kept &&
                           (selector == spec.neuron_selector() || k_n == r.width);
    std::unique_ptr<models::Transformer> variant;
    if (!unchanged) {
      MONE_ASSIGN_OR_RETURN(variant, input.load_variant([&](ModelSpec& s) {
        s.set_ffn_type(ModelSpec::MONE);  // a MoE becomes the MoNE that keeps K_N' neurons
        s.set_neuron_topk(p.neuron_topk);
        s.set_neuron_selector(selector);
        s.set_sparsify_shared_expert(false);
        s.set_shared_expert_neuron_topk(p.shared_neuron_topk < models::shared_expert_width(s) ? p.shared_neuron_topk
                                                                                               : 0);
      }));
    }
    const models::Transformer& model = unchanged ? input.model() : *variant;
    MONE_ASSIGN_OR_RETURN(train::EvalResult e, train::evaluate(model, input.reader(), input.batches()));
    p.ce = e.mean.ce;
    p.perplexity = e.perplexity();
    p.total_loss = e.mean.loss;
    r.batches = e.batches;
    r.tokens = e.tokens;
    r.points.push_back(p);
  }
  return r;
}

nlohmann::ordered_json sparsify_json(const SparsifyResult& r) {
  nlohmann::ordered_json j = {{"checkpoint", r.checkpoint}, {"selector", r.selector},
                              {"moe_intermediate_size", r.width}, {"neuron_topk", r.neuron_topk},
                              {"batches", r.batches},         {"tokens", r.tokens}};
  j["points"] = nlohmann::ordered_json::array();
  for (const SparsifyPoint& p : r.points) {
    j["points"].push_back({{"keep", p.keep},
                           {"neuron_topk", p.neuron_topk},
                           {"shared_neuron_topk", p.shared_neuron_topk},
                           {"loss", p.ce},
                           {"perplexity", p.perplexity},
                           {"total_loss", p.total_loss}});
  }
  return j;
}

std::string sparsify_table(const SparsifyResult& r) {
  std::string t = absl::StrCat(r.checkpoint, ": D = ", r.width, ", K_N = ", r.neuron_topk, ", selector ", r.selector,
                               ", ", r.batches, " batches (", r.tokens, " tokens)\n",
                               "  keep     K_N  shared K_N   CE loss   perplexity   CE - CE(first)\n");
  for (const SparsifyPoint& p : r.points) {
    absl::StrAppend(&t, absl::StrFormat("  %-6.4g %5d %11d %9.5f %12.4f   %+.5f\n", p.keep, p.neuron_topk,
                                        p.shared_neuron_topk, p.ce, p.perplexity, p.ce - r.points.front().ce));
  }
  return t;
}

Status write_sparsify(const std::string& dir, const SparsifyResult& r) {
  MONE_RETURN_IF_ERROR(write_output(dir, "sparsify.json", sparsify_json(r).dump(2) + "\n").status());
  std::string csv = "keep,neuron_topk,shared_neuron_topk,loss,perplexity,total_loss\n";
  for (const SparsifyPoint& p : r.points) {
    absl::StrAppend(&csv, fmt(p.keep), ",", p.neuron_topk, ",", p.shared_neuron_topk, ",", fmt(p.ce), ",",
                    fmt(p.perplexity), ",", fmt(p.total_loss), "\n");
  }
  MONE_RETURN_IF_ERROR(write_output(dir, "sparsify.csv", csv).status());
  report::LineChart chart;
  chart.title = absl::StrCat("post-hoc sparsification (", r.selector, ")");
  chart.x_label = "fraction of neurons kept per routed expert (log)";
  chart.y_label = "validation CE loss";
  chart.log_x = true;
  chart.markers = true;
  report::Series s;
  s.name = "CE loss";
  for (const SparsifyPoint& p : r.points) {
    s.x.push_back(p.keep);
    s.y.push_back(p.ce);
  }
  chart.series.push_back(s);
  return write_output(dir, "sparsify_loss.svg", report::line_chart_svg(chart)).status();
}

}  // namespace mone::research

#include "train/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/tape.h"
#include "core/rng.h"

namespace mone::train {

int32_t sample_token(const std::vector<double>& logits, const SampleOptions& o, double u) {
  const int64_t V = static_cast<int64_t>(logits.size());
  if (o.temperature <= 0.0) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  // Candidates by descending logit (ties: lower id first), cut to top_k.
  std::vector<int32_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  if (o.top_k > 0 && o.top_k < V) order.resize(o.top_k);
  // Softmax at temperature over the candidates.
  std::vector<double> p(order.size());
  const double top = logits[order[0]];
  double sum = 0.0;
  for (size_t i = 0; i < order.size(); ++i) sum += p[i] = std::exp((logits[order[i]] - top) / o.temperature);
  for (double& x : p) x /= sum;
  // Nucleus: keep the shortest prefix whose mass reaches top_p, renormalised.
  size_t keep = p.size();
  if (o.top_p < 1.0) {
    double mass = 0.0;
    for (keep = 0; keep < p.size();) {
      mass += p[keep++];
      if (mass >= o.top_p) break;
    }
  }
  double kept = 0.0;
  for (size_t i = 0; i < keep; ++i) kept += p[i];
  double target = u * kept, acc = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    acc += p[i];
    if (target < acc) return order[i];
  }
  return order[keep - 1];
}

StatusOr<Generation> generate(const models::Transformer& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& options, const std::function<bool(int32_t)>& on_token) {
  if (prompt.empty()) return absl::InvalidArgumentError("the prompt holds no tokens");
  const int64_t max_len = model.spec().max_position_embeddings();
  if (static_cast<int64_t>(prompt.size()) > max_len) {
    return absl::InvalidArgumentError(absl::StrCat("the prompt has ", prompt.size(),
                                                   " tokens; the model's context is ", max_len));
  }
  autograd::NoGradGuard no_grad;
  std::vector<models::KvCache> caches;
  Generator gen(options.seed);
  Generation g;
  std::vector<int32_t> history = prompt;  // everything so far: the window slides over it
  std::vector<int32_t> step_ids = prompt;
  const int64_t window = std::max<int64_t>(1, max_len / 2);
  while (static_cast<int64_t>(g.ids.size()) < options.max_tokens) {
    MONE_ASSIGN_OR_RETURN(Tensor ids, Tensor::from_vector<int32_t>(step_ids, {1, static_cast<int64_t>(step_ids.size())}));
    MONE_ASSIGN_OR_RETURN(models::ModelOutput fwd, model.forward(ids, Tensor(), &caches));
    const Tensor& logits = fwd.logits.value();  // [T, V]: the last row predicts the next token
    MONE_ASSIGN_OR_RETURN(Tensor last, logits.slice(0, logits.size(0) - 1, logits.size(0)));
    const int32_t next = sample_token(last.to_vector<double>(), options, gen.uniform());
    g.ids.push_back(next);
    history.push_back(next);
    if (on_token && !on_token(next)) break;
    if (next == options.stop_token) break;
    if (caches[0].length() + 1 > max_len) {  // the context is full: go on from its last half
      caches.clear();
      step_ids.assign(history.end() - window, history.end());
      ++g.context_slides;
    } else {
      step_ids = {next};
    }
  }
  return g;
}

StopStrings::StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

std::string StopStrings::feed(std::string_view text) {
  if (done_) return "";
  pending_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, pending_.find(s));
  if (first != std::string::npos) {
    done_ = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that is the start of some stop string.
  size_t hold = 0;
  for (const std::string& s : stops_) {
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n) {
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopStrings::finish() {
  std::string out = done_ ? "" : pending_;
  pending_.clear();
  return out;
}

}  // namespace mone::train

#include "train/load_stats.h"

#include <algorithm>

namespace mone::train {

void LoadStats::add(const std::vector<models::FfnAux>& layers) {
  if (tokens_.empty()) {
    for (const auto& l : layers) {
      if (!l.tokens_per_expert.defined()) continue;  // a dense layer
      tokens_.emplace_back(l.neuron_counts.size(0), 0);
      neurons_.emplace_back(l.neuron_counts.size(0), std::vector<int64_t>(l.neuron_counts.size(1), 0));
    }
  }
  size_t i = 0;
  for (const auto& l : layers) {
    if (!l.tokens_per_expert.defined()) continue;
    MONE_CHECK(i < tokens_.size() && static_cast<int64_t>(tokens_[i].size()) == l.tokens_per_expert.numel())
        << "LoadStats: the layers changed shape between steps";
    const std::vector<int64_t> tokens = l.tokens_per_expert.to_vector<int64_t>();
    const std::vector<int64_t> neurons = l.neuron_counts.to_vector<int64_t>();
    const size_t D = neurons_[i][0].size();
    for (size_t e = 0; e < tokens.size(); ++e) {
      tokens_[i][e] += tokens[e];
      for (size_t j = 0; j < D; ++j) neurons_[i][e][j] += neurons[e * D + j];
    }
    ++i;
  }
}

void LoadStats::reset() {
  for (auto& layer : tokens_) std::fill(layer.begin(), layer.end(), 0);
  for (auto& layer : neurons_) {
    for (auto& expert : layer) std::fill(expert.begin(), expert.end(), 0);
  }
}

Status LoadStats::sum_over_ranks(dist::Communicator& comm) {
  if (comm.world_size() == 1 || tokens_.empty()) return absl::OkStatus();
  // Every count, layer by layer, in one flat i64 buffer.
  std::vector<int64_t*> counts;
  for (size_t l = 0; l < tokens_.size(); ++l) {
    for (int64_t& c : tokens_[l]) counts.push_back(&c);
    for (auto& expert : neurons_[l]) {
      for (int64_t& c : expert) counts.push_back(&c);
    }
  }
  std::vector<int64_t> flat;
  for (const int64_t* c : counts) flat.push_back(*c);
  MONE_ASSIGN_OR_RETURN(Tensor buffer, Tensor::from_vector(flat, {static_cast<int64_t>(flat.size())}));
  MONE_RETURN_IF_ERROR(comm.all_reduce_sum(buffer));
  const int64_t* summed = buffer.data<int64_t>();
  for (size_t i = 0; i < counts.size(); ++i) *counts[i] = summed[i];
  return absl::OkStatus();
}

nlohmann::ordered_json LoadStats::expert_load_json() const { return tokens_; }

nlohmann::json LoadStats::counts_json() const {
  if (empty()) return nullptr;
  return {{"tokens", tokens_}, {"neurons", neurons_}};
}

StatusOr<LoadStats> LoadStats::from_counts_json(const nlohmann::json& counts, const std::string& source) {
  LoadStats s;
  if (counts.is_null()) return s;
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(source, ": key \"load_window\" is not {\"tokens\": [L][E], "
                                                   "\"neurons\": [L][E][D]} of counts"));
  };
  try {
    counts.at("tokens").get_to(s.tokens_);
    counts.at("neurons").get_to(s.neurons_);
  } catch (const nlohmann::json::exception&) {
    return bad();
  }
  if (s.tokens_.size() != s.neurons_.size()) return bad();
  for (size_t l = 0; l < s.tokens_.size(); ++l) {
    if (s.neurons_[l].size() != s.tokens_[l].size()) return bad();
  }
  return s;
}

nlohmann::ordered_json LoadStats::neuron_load_json() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t l = 0; l < tokens_.size(); ++l) {
    int64_t pairs = 0, active = 0, rated = 0;
    double sum_rate = 0, max_rate = 0;
    for (size_t e = 0; e < neurons_[l].size(); ++e) {
      const int64_t t = tokens_[l][e];
      for (int64_t count : neurons_[l][e]) {
        ++pairs;
        active += count > 0;
        if (t == 0) continue;
        const double rate = static_cast<double>(count) / static_cast<double>(t);
        sum_rate += rate;
        max_rate = std::max(max_rate, rate);
        ++rated;
      }
    }
    out.push_back({{"active_fraction", pairs ? static_cast<double>(active) / static_cast<double>(pairs) : 0.0},
                   {"mean_rate", rated ? sum_rate / static_cast<double>(rated) : 0.0},
                   {"max_rate", max_rate}});
  }
  return out;
}

}  // namespace mone::train

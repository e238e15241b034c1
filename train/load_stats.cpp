#include "train/load_stats.h"

#include <algorithm>

#include "ops/elementwise.h"

namespace mone::train {

Status LoadStats::add(const std::vector<models::FfnAux>& layers) {
  size_t i = 0;
  for (const auto& l : layers) {
    if (!l.tokens_per_expert.defined()) continue;  // a dense layer
    if (i == pending_tokens_.size()) {  // the first step since a flush: start the sums
      pending_tokens_.push_back(l.tokens_per_expert.clone());
      pending_neurons_.push_back(l.neuron_counts.clone());
    } else {
      MONE_RETURN_IF_ERROR(ops::add_into(pending_tokens_[i], l.tokens_per_expert));
      MONE_RETURN_IF_ERROR(ops::add_into(pending_neurons_[i], l.neuron_counts));
    }
    ++i;
  }
  if (i != pending_tokens_.size()) {
    return absl::InternalError("LoadStats: the number of MoE layers changed between steps");
  }
  return absl::OkStatus();
}

void LoadStats::flush() const {
  for (size_t l = 0; l < pending_tokens_.size(); ++l) {
    const std::vector<int64_t> tokens = value_or_die(pending_tokens_[l].to(Device::cpu())).to_vector<int64_t>();
    const Tensor neurons = value_or_die(pending_neurons_[l].to(Device::cpu()));
    const int64_t E = neurons.size(0), D = neurons.size(1);
    if (l == tokens_.size()) {
      tokens_.emplace_back(E, 0);
      neurons_.emplace_back(E, std::vector<int64_t>(D, 0));
    }
    MONE_CHECK(static_cast<int64_t>(tokens_[l].size()) == E && static_cast<int64_t>(neurons_[l][0].size()) == D)
        << "LoadStats: layer " << l << " changed shape";
    const int64_t* n = neurons.data<int64_t>();
    for (int64_t e = 0; e < E; ++e) {
      tokens_[l][e] += tokens[e];
      for (int64_t j = 0; j < D; ++j) neurons_[l][e][j] += n[e * D + j];
    }
  }
  pending_tokens_.clear();
  pending_neurons_.clear();
}

void LoadStats::reset() {
  pending_tokens_.clear();
  pending_neurons_.clear();
  for (auto& layer : tokens_) std::fill(layer.begin(), layer.end(), 0);
  for (auto& layer : neurons_) {
    for (auto& expert : layer) std::fill(expert.begin(), expert.end(), 0);
  }
}

Status LoadStats::sum_over_ranks(dist::Communicator& comm) {
  flush();
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

nlohmann::ordered_json LoadStats::expert_load_json() const {
  flush();
  return tokens_;
}

nlohmann::json LoadStats::counts_json() const {
  flush();
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
  flush();
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

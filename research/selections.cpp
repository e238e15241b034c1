#include "research/selections.h"

#include <algorithm>
#include <iterator>
#include <set>

namespace mone::research {

int64_t LayerSelections::expert_of_row(int64_t r) const {
  return std::upper_bound(offsets.begin(), offsets.end(), r) - offsets.begin() - 1;
}

StatusOr<LayerSelections> read_selections(const models::FfnCapture& c, int64_t k, bool with_g) {
  if (!c.defined()) return absl::FailedPreconditionError("no selections were captured in this layer");
  LayerSelections s;
  s.experts = c.offsets.numel() - 1;
  s.width = c.g.size(1);
  s.kept = c.idx.size(1);
  MONE_ASSIGN_OR_RETURN(s.offsets, host_vector<int64_t>(c.offsets));
  MONE_ASSIGN_OR_RETURN(const std::vector<int64_t> order, host_vector<int64_t>(c.order));
  for (int64_t pair : order) s.token.push_back(pair / k);
  MONE_ASSIGN_OR_RETURN(s.idx, host_vector<int32_t>(c.idx));
  if (with_g) {
    MONE_ASSIGN_OR_RETURN(s.g, host_vector<double>(c.g));
  }
  return s;
}

SelectionFlips& SelectionFlips::operator+=(const SelectionFlips& o) {
  tokens += o.tokens;
  tokens_rerouted += o.tokens_rerouted;
  pairs += o.pairs;
  pairs_changed += o.pairs_changed;
  neurons_swapped += o.neurons_swapped;
  return *this;
}

SelectionFlips compare_selections(const LayerSelections& before, const LayerSelections& after) {
  // (token, expert) -> row, in each pass.
  auto rows_by_pair = [](const LayerSelections& s) {
    std::map<std::pair<int64_t, int64_t>, int64_t> m;
    for (int64_t r = 0; r < s.rows(); ++r) m[{s.token[r], s.expert_of_row(r)}] = r;
    return m;
  };
  const auto b = rows_by_pair(before), a = rows_by_pair(after);
  SelectionFlips f;
  std::map<int64_t, std::set<int64_t>> experts_before, experts_after;
  for (const auto& [pair, r] : b) experts_before[pair.first].insert(pair.second);
  for (const auto& [pair, r] : a) experts_after[pair.first].insert(pair.second);
  f.tokens = static_cast<int64_t>(experts_before.size());
  for (const auto& [t, set] : experts_before) f.tokens_rerouted += experts_after[t] != set;
  for (const auto& [pair, rb] : b) {
    auto it = a.find(pair);
    if (it == a.end()) continue;
    const int32_t* x = before.idx.data() + rb * before.kept;
    const int32_t* y = after.idx.data() + it->second * after.kept;
    std::vector<int32_t> common;
    std::set_intersection(x, x + before.kept, y, y + after.kept, std::back_inserter(common));
    ++f.pairs;
    const int64_t swapped = before.kept - static_cast<int64_t>(common.size());
    f.pairs_changed += swapped > 0;
    f.neurons_swapped += swapped;
  }
  return f;
}

}  // namespace mone::research

#include "research/expert_rows.h"

namespace mone::research {

StatusOr<Tensor> stacked_expert_weight(const models::Transformer& model, int64_t layer, const std::string& kind) {
  const std::string name = absl::StrCat("model.layers.", layer, ".mlp.experts.", kind, ".weight");
  for (const auto& p : model.parameters()) {
    if (p.name == name) return p.param.value();
  }
  return absl::NotFoundError(absl::StrCat("the model has no parameter ", name));
}

StatusOr<Tensor> expert_slice(const Tensor& stacked, int64_t e) {
  MONE_ASSIGN_OR_RETURN(Tensor s, stacked.slice(0, e, e + 1));
  return s.reshape({stacked.size(1), stacked.size(2)});
}

}  // namespace mone::research

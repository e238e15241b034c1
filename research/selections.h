// A routed layer's captured selections (models::FfnCapture) on the host, in the forms the research
// tools read: which token and expert each row belongs to, its selected neurons, and G.
//
// Shape letters: N tokens, K experts per token, E experts, D expert width, K_N neurons kept,
//   R = N·K routed rows grouped by expert.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "models/ffn.h"

namespace mone::research {

struct LayerSelections {
  int64_t experts = 0, width = 0, kept = 0;  // E, D, K_N
  std::vector<int64_t> offsets;              // [E + 1]
  std::vector<int64_t> token;                // [R] the token of each row
  std::vector<int32_t> idx;                  // [R · K_N] selected neurons, ascending per row
  std::vector<double> g;                     // [R · D] G (empty unless asked for)

  int64_t rows() const { return static_cast<int64_t>(token.size()); }
  int64_t expert_of_row(int64_t r) const;    // from offsets
  // Whether slot k of row r is used: selected with G != 0 (ABS_GATE_THRESHOLD fills a row's spare
  // slots with G = 0 neurons; with the other selectors every slot is used). Needs g.
  bool used(int64_t r, int64_t k) const { return g[r * width + idx[r * kept + k]] != 0.0; }
};

// Copies a capture to the host. `k`: experts per token (rows hold pairs t·K + s). with_g: also G.
StatusOr<LayerSelections> read_selections(const models::FfnCapture& capture, int64_t k, bool with_g);

// How the neuron selections of one layer changed between two forward passes over the same tokens
// (before and after an optimizer step).
struct SelectionFlips {
  int64_t tokens = 0;               // tokens seen
  int64_t tokens_rerouted = 0;      // tokens whose set of experts changed
  int64_t pairs = 0;                // (token, expert) pairs routed in both passes
  int64_t pairs_changed = 0;        // ... whose set of neurons changed
  int64_t neurons_swapped = 0;      // Σ over the pairs of the neurons selected before but not after
  SelectionFlips& operator+=(const SelectionFlips& o);
};
SelectionFlips compare_selections(const LayerSelections& before, const LayerSelections& after);

}  // namespace mone::research

// Sampling from a trained model with a KV cache: the prompt runs once, then every new token is
// one forward of a single position against the cached keys and values of all earlier ones.
// The same seed gives the same text (the sampler draws from a counter-based Generator).
#pragma once

#include <functional>
#include <vector>

#include "models/transformer.h"

namespace mone::train {

struct SampleOptions {
  int64_t max_tokens = 128;
  double temperature = 1.0;  // 0: greedy (argmax)
  int64_t top_k = 0;         // keep the k most likely tokens; 0: all
  double top_p = 1.0;        // nucleus: the smallest set whose probability reaches top_p
  uint64_t seed = 0;
  int32_t stop_token = -1;   // stop after sampling this id (e.g. <|endoftext|>); -1: never
};

// Draws one token id from logits [V] under the options; u is a uniform draw in [0, 1).
int32_t sample_token(const std::vector<double>& logits, const SampleOptions& options, double u);

// Continues `prompt` (at least one id) by up to max_tokens ids; stops early at the stop token or
// at the model's max_position_embeddings. on_token sees each new id as it is drawn.
StatusOr<std::vector<int32_t>> generate(const models::Transformer& model, const std::vector<int32_t>& prompt,
                                        const SampleOptions& options,
                                        const std::function<void(int32_t)>& on_token = nullptr);

}  // namespace mone::train

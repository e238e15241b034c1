// Sampling from a trained model with a KV cache: the prompt runs once, then every new token is
// one forward of a single position against the cached keys and values of all earlier ones.
// The same seed gives the same text (the sampler draws from a counter-based Generator).
//
// When the context (max_position_embeddings) is full, generation slides on: the caches are
// dropped and the last half of the context is run again as a fresh prompt (RoPE only sees
// relative positions, so the window reads as any other prompt), then sampling continues.
#pragma once

#include <functional>
#include <string>
#include <string_view>
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

struct Generation {
  std::vector<int32_t> ids;     // the sampled ids, the stop token included when it came
  int64_t context_slides = 0;   // how often the full context slid to its last half
};

// Continues `prompt` (1 to max_position_embeddings ids) by up to max_tokens ids; stops early at
// the stop token, or when on_token (which sees each new id as it is drawn) returns false.
StatusOr<Generation> generate(const models::Transformer& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& options,
                              const std::function<bool(int32_t)>& on_token = nullptr);

// Streams text and stops at the first stop string: feed() returns what may be shown now, holding
// back a tail that could still grow into a stop string; once one appears, done() is true and
// nothing from the stop string on is ever returned. finish() returns the held-back tail.
class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);
  std::string feed(std::string_view text);
  std::string finish();
  bool done() const { return done_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool done_ = false;
};

}  // namespace mone::train

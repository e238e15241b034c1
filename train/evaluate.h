// Evaluation: the mean of each loss term over batches of an EvalReader (llm.c order), and
// optionally the gradient of the mean total loss with respect to every parameter.
//
// Also the two helpers the trainer shares with it: reading a ModelOutput's loss terms as numbers,
// and backpropagating a loss scaled by 1/n (the mean over n micro-batches or eval batches).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/tape.h"
#include "core/status.h"
#include "models/transformer.h"
#include "train/data/eval_reader.h"

namespace mone::train {

// The shards of one split: for a directory, its *.bin whose names contain `split` ("train" or
// "val", as llm.c and `mone data prepare` name them), or all of its *.bin when none does; files
// and globs as find_shards (train/data/find_shards.h) takes them.
StatusOr<std::vector<std::string>> find_split_shards(const std::string& path, std::string_view split);

// An EvalReader of B x T batches over `paths`. When they hold less than one such batch (a small
// corpus split by --val-fraction), batches of as many whole sequences of T as fit, and *note
// says so; less than one sequence is an error that says what to do.
StatusOr<EvalReader> open_eval_reader(const std::vector<std::string>& paths, int64_t B, int64_t T, std::string* note);

// A ModelOutput's 0-d losses as doubles (copied from the model's device); an undefined term (no
// experts, no MoNE) reads 0.
struct LossValues {
  double loss = 0, ce = 0, load_balance = 0, z_loss = 0, neuron_loss = 0;

  static StatusOr<LossValues> of(const models::ModelOutput& out);
  LossValues& operator+=(const LossValues& o);
  LossValues scaled(double s) const;
};

// Accumulates (+=) the gradient of loss / n into every leaf's grad: with n micro-batches each
// backpropagated this way, the grads hold the gradient of the mean loss. on_ready: the tape's
// gradient-ready hook (autograd/tape.h), for data parallelism's overlapped all-reduce.
Status backward_mean(const autograd::Variable& loss, int64_t n, const autograd::GradReadyHook& on_ready = {});

struct EvalResult {
  int64_t batches = 0;
  int64_t tokens = 0;  // target tokens scored: batches · B · T
  LossValues mean;     // each term averaged over the batches
  double perplexity() const;  // exp(mean CE)
};

// Evaluates batches 0 .. n-1 of `reader`, n = min(max_batches, reader.num_batches()) (all when
// max_batches <= 0). Every batch has B·T targets, so the mean over batches is the mean over tokens.
// with_grads: also accumulates the gradient of the mean total training loss into the parameters'
// grads (the caller zeroes them first); otherwise nothing is recorded on the tape.
// Data parallelism: rank `rank` of `ranks` evaluates only the batches j with j mod ranks = rank
// (batches and mean are over those); the trainer combines the ranks' results.
StatusOr<EvalResult> evaluate(const models::Transformer& model, const EvalReader& reader, int64_t max_batches,
                              bool with_grads = false, int rank = 0, int ranks = 1);

// {"val_loss": mean CE, "val_total_loss": CE + weighted aux terms, "val_load_balance", "val_z_loss",
//  "val_neuron_loss", "val_perplexity": exp(CE), "val_batches": n, "val_tokens"}; another prefix
// replaces "val_".
nlohmann::ordered_json eval_result_json(const EvalResult& r, const std::string& prefix = "val_");

}  // namespace mone::train

#include "train/evaluate.h"

#include <sys/stat.h>

#include <cmath>
#include <optional>
#include <vector>

#include "autograd/tape.h"
#include "train/data/find_shards.h"

namespace mone::train {

StatusOr<EvalReader> open_eval_reader(const std::vector<std::string>& paths, int64_t B, int64_t T, std::string* note) {
  StatusOr<EvalReader> one = EvalReader::open(paths, 1, T);
  if (!one.ok()) {
    return Status(one.status().code(),
                  absl::StrCat(one.status().message(),
                               "; give more text (or a larger --val-fraction) to mone data prepare, or a shorter --seq-len"));
  }
  const int64_t fit = (one->num_tokens() - 1) / T;
  if (fit >= B) return EvalReader::open(paths, B, T);
  *note = absl::StrCat("the evaluation data holds ", one->num_tokens(), " tokens, less than one batch of ", B, " x ", T,
                       ": evaluating batches of ", fit, " x ", T);
  return EvalReader::open(paths, fit, T);
}
namespace {

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A 0-d loss as a double, read back from the model's device when it is not the CPU.
StatusOr<double> value_of(const autograd::Variable& v) {
  if (!v.defined()) return 0.0;
  MONE_ASSIGN_OR_RETURN(const Tensor host, v.value().to(Device::cpu()));
  return host.item();
}

}  // namespace

StatusOr<std::vector<std::string>> find_split_shards(const std::string& path, std::string_view split) {
  StatusOr<std::vector<std::string>> paths = find_shards(path, split);
  if (paths.ok() || !is_directory(path) || !absl::IsNotFound(paths.status())) return paths;
  return find_shards(path, "");
}

StatusOr<LossValues> LossValues::of(const models::ModelOutput& out) {
  LossValues l;
  MONE_ASSIGN_OR_RETURN(l.loss, value_of(out.loss));
  MONE_ASSIGN_OR_RETURN(l.ce, value_of(out.ce));
  MONE_ASSIGN_OR_RETURN(l.load_balance, value_of(out.load_balance));
  MONE_ASSIGN_OR_RETURN(l.z_loss, value_of(out.z_loss));
  MONE_ASSIGN_OR_RETURN(l.neuron_loss, value_of(out.neuron_loss));
  return l;
}

LossValues& LossValues::operator+=(const LossValues& o) {
  loss += o.loss;
  ce += o.ce;
  load_balance += o.load_balance;
  z_loss += o.z_loss;
  neuron_loss += o.neuron_loss;
  return *this;
}

LossValues LossValues::scaled(double s) const {
  return {loss * s, ce * s, load_balance * s, z_loss * s, neuron_loss * s};
}

Status backward_mean(const autograd::Variable& loss, int64_t n, const autograd::GradReadyHook& on_ready) {
  if (n == 1) return autograd::backward(loss, Tensor(), on_ready);  // seed 1: no rounding from a scale
  MONE_ASSIGN_OR_RETURN(const Tensor seed,
                        Tensor::full(loss.shape(), 1.0 / static_cast<double>(n), loss.dtype()).to(loss.device()));
  return autograd::backward(loss, seed, on_ready);
}

double EvalResult::perplexity() const { return std::exp(mean.ce); }

StatusOr<EvalResult> evaluate(const models::Transformer& model, const EvalReader& reader, int64_t max_batches,
                              bool with_grads, int rank, int ranks) {
  const int64_t available = reader.num_batches();
  const int64_t n = max_batches > 0 ? std::min(max_batches, available) : available;
  const int64_t B = reader.batch_size(), T = reader.seq_len();
  std::optional<autograd::NoGradGuard> no_grad;
  if (!with_grads) no_grad.emplace();

  EvalResult result;
  std::vector<int32_t> inputs(B * T), targets(B * T);
  const int64_t mine = n > rank ? (n - rank - 1) / ranks + 1 : 0;  // this rank's batches: rank, rank + ranks, ...
  for (int64_t j = rank; j < n; j += ranks) {
    MONE_RETURN_IF_ERROR(reader.read(j, inputs.data(), targets.data()));
    MONE_ASSIGN_OR_RETURN(Tensor ids, Tensor::from_vector(inputs, {B, T}));
    MONE_ASSIGN_OR_RETURN(Tensor tgt, Tensor::from_vector(targets, {B, T}));
    MONE_ASSIGN_OR_RETURN(models::ModelOutput out, model.forward(ids, tgt));
    MONE_ASSIGN_OR_RETURN(const LossValues values, LossValues::of(out));
    result.mean += values;
    if (with_grads) MONE_RETURN_IF_ERROR(backward_mean(out.loss, mine));
  }
  result.batches = mine;
  result.tokens = mine * B * T;
  if (mine > 0) result.mean = result.mean.scaled(1.0 / static_cast<double>(mine));
  return result;
}

nlohmann::ordered_json eval_result_json(const EvalResult& r, const std::string& prefix) {
  const std::string p = prefix;
  return {{p + "loss", r.mean.ce},
          {p + "total_loss", r.mean.loss},
          {p + "load_balance", r.mean.load_balance},
          {p + "z_loss", r.mean.z_loss},
          {p + "neuron_loss", r.mean.neuron_loss},
          {p + "perplexity", r.perplexity()},
          {p + "batches", r.batches},
          {p + "tokens", r.tokens}};
}

}  // namespace mone::train

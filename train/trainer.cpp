#include "train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdarg>
#include <memory>
#include <optional>

#include "autograd/tape.h"
#include "core/cuda_memory.h"
#include "cuda/blas.h"
#include "models/spec_stats.h"
#include "models/transformer.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "core/file_io.h"
#include "train/checkpointing.h"
#include "train/data/eval_reader.h"
#include "train/data/train_loader.h"
#include "train/evaluate.h"
#include "train/load_stats.h"
#include "train/machine.h"
#include "train/metrics.h"
#include "train/optimizer.h"
#include "train/schedule.h"
#include "train/tokenizer/tokenizer_files.h"
#include "train/train_spec.h"

namespace mone::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ---- SIGINT / SIGTERM: set a flag; the loop checkpoints at the end of the step and returns ----
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

// Installs the handlers for one run and restores the previous ones after it. SA_RESETHAND: a
// second signal meets the default action, so an impatient user can still kill the process.
class SignalGuard {
 public:
  SignalGuard() {
    g_stop_signal = 0;
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ = {}, old_term_ = {};
};

// Messages for the user. On a terminal the progress line is redrawn in place (\r); elsewhere
// (a log file, CI) every progress line is a line of its own.
class Console {
 public:
  explicit Console(std::FILE* f) : f_(f), tty_(f != nullptr && ::isatty(::fileno(f))) {}
  void progress(const std::string& line) {
    if (f_ == nullptr) return;
    std::fprintf(f_, tty_ ? "\r%s\033[K" : "%s\n", line.c_str());
    pending_ = tty_;
    std::fflush(f_);
  }
  void say(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (f_ == nullptr) return;
    if (pending_) std::fputc('\n', f_);
    pending_ = false;
    va_list args;
    va_start(args, fmt);
    std::vfprintf(f_, fmt, args);
    va_end(args);
    std::fputc('\n', f_);
    std::fflush(f_);
  }
  bool tty() const { return tty_; }

 private:
  std::FILE* f_;
  bool tty_;
  bool pending_ = false;
};

// Everything one training session holds.
struct Run {
  dist::Communicator* comm = nullptr;            // the ranks (a single-process one when none is given)
  std::unique_ptr<dist::Communicator> own_comm;  // that single-process one
  std::optional<dist::DataParallel> parallel;    // with more than one rank
  bool overlap = false;                          // parallel's all-reduces overlap the backward
  bool root() const { return comm->rank() == 0; }
  proto::TrainSpec spec;
  std::string run_dir;
  std::unique_ptr<models::Transformer> model;
  models::ParameterList params;  // handles to the model's parameters
  std::optional<TrainLoader> loader;
  std::optional<EvalReader> val;
  std::optional<AdamW> optimizer;
  std::optional<MetricsLog> metrics;
  TrainerState state;
  LrSchedule schedule;
  LoadStats load;
  int64_t total_steps = 0;
  double flops_per_token = 0, peak_flops = 0;
  std::string peak_how;  // how peak_flops was found, for the first line
  Device device;         // of the model, its gradients, the optimizer state and the batches
};

// What changed in the spec since the checkpoint: a warning when the numbers can differ from an
// uninterrupted run, a note otherwise.
void report_changes(const proto::TrainSpec& before, const proto::TrainSpec& now, const std::string& checkpoint,
                    Console& console) {
  std::vector<SpecChange> numbers, others;
  for (SpecChange& c : spec_changes(before, now)) (c.affects_training ? numbers : others).push_back(std::move(c));
  if (!numbers.empty()) {
    console.say("warning: this run changes %s since %s; it continues with the new values (not an exact "
                "continuation)", describe_changes(numbers).c_str(), checkpoint.c_str());
  }
  if (!others.empty()) console.say("note: changed since %s: %s", checkpoint.c_str(), describe_changes(others).c_str());
  if (before.model().name() != now.model().name()) {
    console.say("note: the model's name label changed from \"%s\" to \"%s\"", before.model().name().c_str(),
                now.model().name().c_str());
  }
}

// Checks the spec, the run directory and the data, builds the model and optimizer, and restores
// a checkpoint when resuming. The order puts cheap checks first and writes nothing to the run
// directory before the data is known to be good.
Status set_up(Run& r, const proto::TrainSpec& spec_in, const TrainOptions& opt, Console& console) {
  r.spec = spec_in;
  MONE_RETURN_IF_ERROR(resolve_train_spec(r.spec, opt.source, opt.spec_dir));
  const proto::TrainSpec& s = r.spec;
  r.comm->set_timeout_s(s.collective_timeout_s());
  StatusOr<Device> device = parse_device(s.device());
  if (!device.ok()) return Status(device.status().code(), absl::StrCat(opt.source, ": ", device.status().message()));
  r.device = *device;
  set_num_threads(s.threads());
  cuda::set_allow_tf32(s.allow_tf32());
  r.run_dir = s.run_dir();
  const bool has = has_checkpoints(r.run_dir);
  if (has && !opt.resume) {
    return absl::AlreadyExistsError(absl::StrCat("run directory ", r.run_dir,
                                                 " already holds checkpoints: pass --resume to continue that run, "
                                                 "or choose another --run-dir"));
  }
  if (!has && opt.resume) {
    return absl::NotFoundError(absl::StrCat("--resume: run directory ", r.run_dir, " holds no checkpoints"));
  }

  const int64_t B = s.batch_size(), T = s.seq_len(), V = s.model().vocab_size();
  std::string tokenizer_json;  // the tokenizer file's bytes, copied into the run directory below
  if (!s.tokenizer().empty()) {
    MONE_ASSIGN_OR_RETURN(Tokenizer tok, load_tokenizer(s.tokenizer()));
    if (tok.vocab_size() > V) {
      return absl::InvalidArgumentError(absl::StrCat(s.tokenizer(), ": the tokenizer has ", tok.vocab_size(),
                                                     " tokens, more than the model's vocab_size ", V,
                                                     " (pass --vocab-size ", tok.vocab_size(), ")"));
    }
    MONE_ASSIGN_OR_RETURN(tokenizer_json, read_file_to_string(s.tokenizer()));
  }
  MONE_ASSIGN_OR_RETURN(std::vector<std::string> train_paths, find_split_shards(s.train_data(), "train"));
  MONE_ASSIGN_OR_RETURN(TrainLoader loader,
                        TrainLoader::open(train_paths, B, T, s.seed(), r.comm->rank(), r.comm->world_size()));
  MONE_RETURN_IF_ERROR(loader.check_max_token(V));
  r.loader.emplace(std::move(loader));
  if (!s.val_data().empty() && s.eval_interval() > 0) {
    MONE_ASSIGN_OR_RETURN(std::vector<std::string> val_paths, find_split_shards(s.val_data(), "val"));
    if (val_paths == train_paths) console.say("warning: the validation shards are the training shards");
    std::string note;
    MONE_ASSIGN_OR_RETURN(EvalReader val, open_eval_reader(val_paths, B, T, &note));
    if (!note.empty()) console.say("note: %s", note.c_str());
    MONE_RETURN_IF_ERROR(val.check_max_token(V));
    r.val.emplace(std::move(val));
  }

  MONE_RETURN_IF_ERROR(make_directories(r.run_dir));
  const std::string metrics_path = join_path(r.run_dir, "metrics.jsonl");
  if (r.root() && !opt.resume) {  // a new run: records of an earlier one that kept no checkpoint go aside
    MONE_ASSIGN_OR_RETURN(std::string aside, set_aside(metrics_path));
    if (!aside.empty()) {
      console.say("note: %s held the records of an earlier run that saved no checkpoint; moved to %s, "
                  "this run starts the file afresh", metrics_path.c_str(), aside.c_str());
    }
  }
  if (r.root() && !tokenizer_json.empty()) {
    MONE_RETURN_IF_ERROR(write_string_atomic(join_path(r.run_dir, "tokenizer.json"), tokenizer_json));
  }

  // Drawn on the CPU from the seed (the same weights on every device), then moved: the parameters,
  // their gradients, the optimizer state below and the batches live on r.device.
  MONE_ASSIGN_OR_RETURN(r.model, models::Transformer::create(s.model(), s.seed()));
  MONE_RETURN_IF_ERROR(r.model->to(r.device));
  MONE_RETURN_IF_ERROR(r.model->set_compute_dtype(compute_dtype(s.precision())));
  r.params = r.model->parameters();
  if (r.comm->world_size() > 1) {
    // Every rank built the same weights from the same seed; from here on they take the same steps.
    std::vector<Tensor> values;
    for (const auto& p : r.params) values.push_back(p.param.value());
    dist::DataParallelOptions dp;
    dp.bucket_bytes = static_cast<int64_t>(s.grad_bucket_mb() * (1 << 20));
    dp.shard_optimizer_state = s.shard_optimizer_state();
    MONE_ASSIGN_OR_RETURN(dist::DataParallel parallel, dist::DataParallel::create(*r.comm, values, dp));
    r.parallel.emplace(std::move(parallel));
    r.overlap = s.has_overlap_grad_reduce() ? s.overlap_grad_reduce() : r.comm->runs_in_background();
  }
  OptimizerConfig oc = optimizer_config(s);
  oc.parallel = r.parallel ? &*r.parallel : nullptr;
  MONE_ASSIGN_OR_RETURN(AdamW optimizer, AdamW::create(r.params, oc));
  r.optimizer.emplace(std::move(optimizer));
  r.state = make_trainer_state(s);

  if (opt.resume) {
    MONE_ASSIGN_OR_RETURN(ResumePoint point, load_checkpoint_for_resume(r.run_dir, s.model(), r.params, *r.optimizer));
    for (const std::string& w : point.warnings) console.say("warning: %s", w.c_str());
    const std::string state_file = join_path(point.dir, kTrainerStateFileName);
    MONE_ASSIGN_OR_RETURN(proto::TrainSpec before, parse_train_spec(point.state.train_spec_text, state_file));
    report_changes(before, s, point.dir, console);
    MONE_ASSIGN_OR_RETURN(r.load, LoadStats::from_counts_json(point.state.load_window, state_file));
    const TrainerState fresh = r.state;
    r.state = point.state;
    r.state.train_spec_text = fresh.train_spec_text;  // from now on the checkpoints record this run's spec
    r.state.train_spec_sha256 = fresh.train_spec_sha256;
    MONE_RETURN_IF_ERROR(r.loader->seek(r.state.data_position));
    if (r.root()) {
      MONE_RETURN_IF_ERROR(truncate_metrics_after(metrics_path, r.state.step));
      MONE_RETURN_IF_ERROR(
          tidy_checkpoints(r.run_dir, r.state.step, static_cast<int>(s.keep_checkpoints())));
    }
    console.say("resuming from %s (step %lld)", point.dir.c_str(), static_cast<long long>(r.state.step));
  } else {
    // No checkpoint: the run starts over, and lines left by an attempt killed before its first
    // checkpoint describe nothing that was kept.
    MONE_RETURN_IF_ERROR(truncate_metrics_after(metrics_path, -1));
  }
  if (r.root()) {
    MONE_RETURN_IF_ERROR(write_string_atomic(join_path(r.run_dir, "train_spec.textproto"), r.state.train_spec_text));
    MONE_ASSIGN_OR_RETURN(MetricsLog metrics, MetricsLog::open(metrics_path));
    r.metrics.emplace(std::move(metrics));
  }

  r.total_steps = total_training_steps(s);
  r.schedule = {s.lr(), s.warmup_steps(), r.total_steps, s.min_lr_ratio()};
  r.flops_per_token = models::training_flops_per_token(s.model(), T);
  // MFU's denominator: every rank's peak (rank 0 measures one; the others only log through it),
  // the GEMM peak of the compute dtype on the training device.
  PeakFlops peak{s.peak_flops(), "given"};
  if (s.peak_flops() <= 0 && r.root()) {
    MONE_ASSIGN_OR_RETURN(peak, measure_peak_flops(r.device, r.model->compute_dtype()));
  } else if (s.peak_flops() <= 0) {
    peak.flops = 1.0;
  }
  r.peak_flops = peak.flops * r.comm->world_size();
  r.peak_how = peak.how;
  return absl::OkStatus();
}

struct StepOutcome {
  LossValues mean;  // over the micro-batches (and the ranks)
  StepResult update;
};

// values = Σ over the ranks of values (one f64 all-reduce); nothing happens with one rank.
Status sum_over_ranks(dist::Communicator& comm, std::vector<double>& values) {
  if (comm.world_size() == 1) return absl::OkStatus();
  MONE_ASSIGN_OR_RETURN(Tensor buffer, Tensor::from_vector(values, {static_cast<int64_t>(values.size())}));
  MONE_RETURN_IF_ERROR(comm.all_reduce_sum(buffer));
  values = buffer.to_vector<double>();
  return absl::OkStatus();
}

// The ranks' LossValues weighted by `weight` and summed: with weight 1/R, the mean over ranks
// whose shares of the batch are equal.
Status combine_losses(dist::Communicator& comm, LossValues& l, double weight) {
  std::vector<double> v = {l.loss, l.ce, l.load_balance, l.z_loss, l.neuron_loss};
  for (double& x : v) x *= weight;
  MONE_RETURN_IF_ERROR(sum_over_ranks(comm, v));
  l = {v[0], v[1], v[2], v[3], v[4]};
  return absl::OkStatus();
}

// grad_accum micro-batches, each backpropagated as loss / grad_accum, then one optimizer step.
StatusOr<StepOutcome> train_step(Run& r, double lr) {
  const int64_t A = r.spec.grad_accum_steps(), B = r.loader->rows(), T = r.spec.seq_len();
  std::vector<int32_t> inputs(B * T), targets(B * T);
  StepOutcome o;
  for (int64_t a = 0; a < A; ++a) {
    MONE_RETURN_IF_ERROR(r.loader->next(inputs.data(), targets.data()));
    MONE_ASSIGN_OR_RETURN(Tensor ids, Tensor::from_vector(inputs, {B, T}));
    MONE_ASSIGN_OR_RETURN(Tensor tgt, Tensor::from_vector(targets, {B, T}));
    MONE_ASSIGN_OR_RETURN(models::ModelOutput out, r.model->forward(ids, tgt));
    MONE_ASSIGN_OR_RETURN(const LossValues values, LossValues::of(out));
    o.mean += values;
    MONE_RETURN_IF_ERROR(r.load.add(out.layers));
    autograd::GradReadyHook on_ready;  // the last backward hands its gradients to the all-reduce
    if (r.overlap && a == A - 1) {
      MONE_ASSIGN_OR_RETURN(on_ready, overlap_gradient_reduce(r.params, *r.parallel));
    }
    MONE_RETURN_IF_ERROR(backward_mean(out.loss, A, on_ready));
  }
  o.mean = o.mean.scaled(1.0 / static_cast<double>(A));
  // The whole batch's losses: every rank then judges the same loss finite or not.
  if (r.comm->world_size() > 1) MONE_RETURN_IF_ERROR(combine_losses(*r.comm, o.mean, 1.0 / r.comm->world_size()));
  MONE_ASSIGN_OR_RETURN(o.update, r.optimizer->step(r.params, lr, o.mean.loss));
  return o;
}

Status evaluate_now(Run& r, int64_t step, TrainSummary& summary, Console& console) {
  if (!r.val) return absl::OkStatus();
  const int R = r.comm->world_size();
  MONE_ASSIGN_OR_RETURN(EvalResult e, evaluate(*r.model, *r.val, r.spec.eval_batches(), false, r.comm->rank(), R));
  if (R > 1) {  // every rank evaluated every R-th batch: weight each rank's mean by its batches
    std::vector<double> counts = {static_cast<double>(e.batches), static_cast<double>(e.tokens)};
    MONE_RETURN_IF_ERROR(sum_over_ranks(*r.comm, counts));
    MONE_RETURN_IF_ERROR(combine_losses(*r.comm, e.mean, counts[0] > 0 ? e.batches / counts[0] : 0.0));
    e.batches = static_cast<int64_t>(counts[0]);
    e.tokens = static_cast<int64_t>(counts[1]);
  }
  summary.val_losses.emplace_back(step, e.mean.ce);
  if (!r.root()) return absl::OkStatus();
  nlohmann::ordered_json record = {{"step", step}};
  record.update(eval_result_json(e));
  MONE_RETURN_IF_ERROR(r.metrics->write(record));
  console.say("step %lld: val loss %.4f (perplexity %.2f, %lld tokens)", static_cast<long long>(step), e.mean.ce,
              e.perplexity(), static_cast<long long>(e.tokens));
  return absl::OkStatus();
}

// ZeRO-1: the full AdamW state, on rank 0 (the other ranks send their shares and get nothing).
StatusOr<std::optional<AdamW>> gather_optimizer(Run& r) {
  const AdamW& sharded = *r.optimizer;
  std::vector<Tensor> m = sharded.exp_avg(), v = sharded.exp_avg_sq();
  for (size_t i = 0; r.root() && i < m.size(); ++i) {
    if (m[i].defined()) continue;
    MONE_ASSIGN_OR_RETURN(m[i], Tensor::zeros_like(r.params[i].param.value()));
    MONE_ASSIGN_OR_RETURN(v[i], Tensor::zeros_like(r.params[i].param.value()));
  }
  MONE_RETURN_IF_ERROR(r.parallel->broadcast_from_owners(m, r.root()));
  MONE_RETURN_IF_ERROR(r.parallel->broadcast_from_owners(v, r.root()));
  if (!r.root()) return std::nullopt;
  OptimizerConfig whole = sharded.config();
  whole.parallel = nullptr;
  MONE_ASSIGN_OR_RETURN(AdamW full, AdamW::create(r.params, whole));
  MONE_RETURN_IF_ERROR(full.load_state(m, v, sharded.step_count(), "the ranks' optimizer shards"));
  return std::optional<AdamW>(std::move(full));
}

Status checkpoint_now(Run& r, TrainSummary& summary) {
  r.state.optimizer_step = r.optimizer->step_count();
  r.state.data_position = r.loader->position();
  std::optional<AdamW> gathered;
  if (r.parallel && r.parallel->shards_optimizer_state()) {
    MONE_ASSIGN_OR_RETURN(gathered, gather_optimizer(r));
  }
  if (!r.root()) return absl::OkStatus();  // rank 0 writes; the others go on to the next step
  r.state.load_window = r.load.counts_json();
  MONE_ASSIGN_OR_RETURN(summary.last_checkpoint,
                        save_checkpoint(r.run_dir, r.params, gathered ? *gathered : *r.optimizer, r.state,
                                        r.spec.model(), static_cast<int>(r.spec.keep_checkpoints())));
  return absl::OkStatus();
}

// Timing of this session, for tokens/s, MFU and the ETA (evaluation and checkpoints excluded).
struct Timing {
  Clock::time_point session_start = Clock::now();
  double train_s = 0;                            // this session's time in train_step
  double window_s = 0;                           // ... since the last metrics line
  int64_t window_tokens = 0, session_steps = 0, session_tokens = 0;
};

Status log_step(Run& r, int64_t step, const StepOutcome& o, double lr, Timing& t, Console& console) {
  MONE_RETURN_IF_ERROR(r.load.sum_over_ranks(*r.comm));
  if (!r.root()) {
    r.load.reset();
    return absl::OkStatus();
  }
  const double tok_s = t.window_s > 0 ? static_cast<double>(t.window_tokens) / t.window_s : 0.0;
  nlohmann::ordered_json record = {{"step", step},
                           {"lr", lr},
                           {"loss", o.mean.loss},
                           {"ce", o.mean.ce},
                           {"load_balance", o.mean.load_balance},
                           {"z_loss", o.mean.z_loss},
                           {"neuron_loss", o.mean.neuron_loss},
                           {"grad_norm", o.update.grad_norm},
                           {"skipped", !o.update.applied},
                           {"tokens", r.state.tokens_seen},
                           {"tokens_per_s", tok_s},
                           {"mfu", r.flops_per_token * tok_s / r.peak_flops},
                           {"elapsed_s", r.state.elapsed_s}};
  if (!r.load.empty()) {
    record["expert_load"] = r.load.expert_load_json();
    record["neuron_load"] = r.load.neuron_load_json();
  }
  if (r.device.is_cuda()) {
    const cuda_memory::MemoryStats mem = cuda_memory::memory_stats(r.device.index);
    record["cuda_memory_bytes"] = mem.current_bytes;
    record["cuda_peak_memory_bytes"] = mem.peak_bytes;
  }
  MONE_RETURN_IF_ERROR(r.metrics->write(record));
  r.load.reset();
  t.window_s = 0;
  t.window_tokens = 0;
  const double eta = t.session_steps > 0 ? t.train_s / static_cast<double>(t.session_steps) *
                                               static_cast<double>(r.total_steps - step)
                                         : 0.0;
  console.progress(progress_line(step, r.total_steps, o.mean.loss, tok_s, eta));
  return absl::OkStatus();
}

bool multiple(int64_t step, int64_t interval) { return interval > 0 && step % interval == 0; }

}  // namespace

int64_t total_training_steps(const proto::TrainSpec& spec) {
  if (spec.steps() > 0) return spec.steps();
  // The spec may not be validated (`mone runs` reads the one a checkpoint recorded): a product
  // that overflows is more tokens per step than any budget holds.
  int64_t per_step = 0;
  if (__builtin_mul_overflow(spec.batch_size(), spec.seq_len(), &per_step) ||
      __builtin_mul_overflow(per_step, spec.grad_accum_steps(), &per_step)) {
    return 1;
  }
  return std::max<int64_t>(1, spec.token_budget() / std::max<int64_t>(1, per_step));
}

StatusOr<TrainSummary> run_training(const proto::TrainSpec& spec, const TrainOptions& opt) {
  Run r;
  r.comm = opt.comm;
  if (r.comm == nullptr) {
    r.own_comm = dist::single_process_communicator();
    r.comm = r.own_comm.get();
  }
  Console console(r.root() ? opt.log : nullptr);  // rank 0 speaks for every rank
  MONE_RETURN_IF_ERROR(set_up(r, spec, opt, console));
  SignalGuard signals;
  const proto::TrainSpec& s = r.spec;
  TrainSummary summary;
  summary.start_step = summary.final_step = r.state.step;
  summary.total_steps = r.total_steps;
  console.say("training %s: %lld parameters, %lld steps of %lld tokens, on %s in %s, %d threads, peak %.1f GFLOP/s (%s)",
              s.model().name().empty() ? "model" : s.model().name().c_str(),
              static_cast<long long>(models::count_parameters(r.params)), static_cast<long long>(r.total_steps),
              static_cast<long long>(s.batch_size() * s.seq_len() * s.grad_accum_steps()),
              r.device.to_string().c_str(),
              s.precision() == proto::TrainSpec::BF16 ? "bf16 mixed precision" : "f32", num_threads(),
              r.peak_flops / r.comm->world_size() / 1e9, r.peak_how.c_str());
  if (r.comm->world_size() > 1) {
    console.say("data parallel: %d ranks (%s), %lld sequences each per micro-batch, %zu gradient buckets%s%s",
                r.comm->world_size(), r.comm->backend().c_str(), static_cast<long long>(r.loader->rows()),
                r.parallel->reduce_buckets().size(), r.overlap ? " all-reduced during the backward" : "",
                s.shard_optimizer_state() ? ", optimizer state sharded (ZeRO-1)" : "");
  }
  if (r.state.step == 0) MONE_RETURN_IF_ERROR(evaluate_now(r, 0, summary, console));

  Timing t;
  const double elapsed_before = r.state.elapsed_s;
  for (int64_t step = r.state.step; step < r.total_steps; ++step) {
    const double lr = r.schedule.at(step);
    const Clock::time_point t0 = Clock::now();
    MONE_ASSIGN_OR_RETURN(StepOutcome o, train_step(r, lr));
    const double dt = seconds_since(t0);
    const int64_t done = step + 1, tokens = s.batch_size() * s.seq_len() * s.grad_accum_steps();
    t.train_s += dt;
    t.window_s += dt;
    t.window_tokens += tokens;
    ++t.session_steps;
    t.session_tokens += tokens;
    r.state.step = done;
    r.state.lr = lr;
    r.state.tokens_seen += tokens;
    r.state.elapsed_s = elapsed_before + seconds_since(t.session_start);
    summary.final_step = done;
    summary.final_loss = o.mean.loss;

    // Log first, so the record of a step that ends the run is kept too.
    if (multiple(done, s.log_interval()) || done == r.total_steps || !o.update.applied) {
      MONE_RETURN_IF_ERROR(log_step(r, done, o, lr, t, console));
    }
    if (o.update.applied) {
      r.state.consecutive_nonfinite = 0;
    } else {
      ++summary.skipped_steps;
      ++r.state.consecutive_nonfinite;
      console.say("warning: step %lld: loss %g, grad norm %g: not finite, update skipped (%lld in a row)",
                  static_cast<long long>(done), o.mean.loss, o.update.grad_norm,
                  static_cast<long long>(r.state.consecutive_nonfinite));
      if (r.state.consecutive_nonfinite >= s.max_nonfinite_steps()) {
        return absl::AbortedError(absl::StrCat(
            "stopping at step ", done, ": ", r.state.consecutive_nonfinite,
            " consecutive steps had a non-finite loss or gradient norm (max_nonfinite_steps = ",
            s.max_nonfinite_steps(), "); try a lower lr. Last checkpoint: ",
            summary.last_checkpoint.empty() ? "none in this session" : summary.last_checkpoint));
      }
    }
    if (multiple(done, s.eval_interval()) || done == r.total_steps) {
      MONE_RETURN_IF_ERROR(evaluate_now(r, done, summary, console));
    }
    const bool requested = opt.stop_requested && opt.stop_requested(done);
    std::vector<double> signalled = {g_stop_signal != 0 ? 1.0 : 0.0};  // a signal to any rank stops them all
    MONE_RETURN_IF_ERROR(sum_over_ranks(*r.comm, signalled));
    const bool stop = requested || signalled[0] > 0 || (opt.stop_after_step > 0 && done >= opt.stop_after_step);
    if (multiple(done, s.checkpoint_interval()) || done == r.total_steps || stop) {
      MONE_RETURN_IF_ERROR(checkpoint_now(r, summary));
    }
    if (stop && done < r.total_steps) {
      summary.stopped_early = true;
      const char* why = g_stop_signal == SIGINT    ? "SIGINT"
                        : g_stop_signal == SIGTERM ? "SIGTERM"
                        : signalled[0] > 0         ? "a signal to another rank"
                        : requested                ? "request"
                                                   : "--stop-after";
      console.say("stopped (%s) after step %lld; saved %s; continue with --resume", why, static_cast<long long>(done),
                  summary.last_checkpoint.c_str());
      break;
    }
  }
  if (summary.start_step >= r.total_steps) {
    console.say("nothing to do: the run already completed its %lld steps", static_cast<long long>(r.total_steps));
  }
  summary.tokens_per_s = t.train_s > 0 ? static_cast<double>(t.session_tokens) / t.train_s : 0.0;
  return summary;
}

}  // namespace mone::train

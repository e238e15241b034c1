#include "train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdarg>
#include <memory>
#include <optional>

#include "autograd/tape.h"
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
};

// Checks the spec, the run directory and the data, builds the model and optimizer, and restores
// a checkpoint when resuming. The order puts cheap checks first and writes nothing to the run
// directory before the data is known to be good.
Status set_up(Run& r, const proto::TrainSpec& spec_in, const TrainOptions& opt, Console& console) {
  r.spec = spec_in;
  MONE_RETURN_IF_ERROR(resolve_train_spec(r.spec, opt.source));
  const proto::TrainSpec& s = r.spec;
  if (s.device() != "cpu") {
    return absl::UnimplementedError(absl::StrCat(opt.source, ": device \"", s.device(),
                                                 "\": training runs on the CPU for now (use --device cpu)"));
  }
  set_num_threads(s.threads());
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
  MONE_ASSIGN_OR_RETURN(TrainLoader loader, TrainLoader::open(train_paths, B, T, s.seed()));
  MONE_RETURN_IF_ERROR(loader.check_max_token(V));
  r.loader.emplace(std::move(loader));
  if (!s.val_data().empty() && s.eval_interval() > 0) {
    MONE_ASSIGN_OR_RETURN(std::vector<std::string> val_paths, find_split_shards(s.val_data(), "val"));
    if (val_paths == train_paths) console.say("warning: the validation shards are the training shards");
    MONE_ASSIGN_OR_RETURN(EvalReader val, EvalReader::open(val_paths, B, T));
    MONE_RETURN_IF_ERROR(val.check_max_token(V));
    r.val.emplace(std::move(val));
  }

  MONE_RETURN_IF_ERROR(make_directories(r.run_dir));
  if (!tokenizer_json.empty()) {
    MONE_RETURN_IF_ERROR(write_string_atomic(join_path(r.run_dir, "tokenizer.json"), tokenizer_json));
  }

  MONE_ASSIGN_OR_RETURN(r.model, models::Transformer::create(s.model(), s.seed()));
  r.params = r.model->parameters();
  OptimizerConfig oc;
  oc.adamw = {s.lr(), s.beta1(), s.beta2(), s.eps(), s.weight_decay()};
  oc.grad_clip = s.grad_clip();
  oc.decay_norms_and_embeddings = s.decay_norms_and_embeddings();
  MONE_ASSIGN_OR_RETURN(AdamW optimizer, AdamW::create(r.params, oc));
  r.optimizer.emplace(std::move(optimizer));
  r.state = make_trainer_state(s);

  const std::string metrics_path = join_path(r.run_dir, "metrics.jsonl");
  if (opt.resume) {
    MONE_ASSIGN_OR_RETURN(ResumePoint point, load_checkpoint_for_resume(r.run_dir, s.model(), r.params, *r.optimizer));
    for (const std::string& w : point.warnings) console.say("warning: %s", w.c_str());
    if (point.state.train_spec_sha256 != r.state.train_spec_sha256) {
      console.say("warning: the train spec differs from the one %s was trained with; the run continues "
                  "with the new one (not an exact continuation)", point.dir.c_str());
    }
    const TrainerState fresh = r.state;
    r.state = point.state;
    r.state.train_spec_text = fresh.train_spec_text;  // from now on the checkpoints record this run's spec
    r.state.train_spec_sha256 = fresh.train_spec_sha256;
    MONE_RETURN_IF_ERROR(r.loader->seek(r.state.data_position));
    MONE_RETURN_IF_ERROR(truncate_metrics_after(metrics_path, r.state.step));
    console.say("resuming from %s (step %lld)", point.dir.c_str(), static_cast<long long>(r.state.step));
  } else {
    // No checkpoint: the run starts over, and lines left by an attempt killed before its first
    // checkpoint describe nothing that was kept.
    MONE_RETURN_IF_ERROR(truncate_metrics_after(metrics_path, -1));
  }
  MONE_RETURN_IF_ERROR(write_string_atomic(join_path(r.run_dir, "train_spec.textproto"), r.state.train_spec_text));
  MONE_ASSIGN_OR_RETURN(MetricsLog metrics, MetricsLog::open(metrics_path));
  r.metrics.emplace(std::move(metrics));

  r.total_steps = total_training_steps(s);
  r.schedule = {s.lr(), s.warmup_steps(), r.total_steps, s.min_lr_ratio()};
  r.flops_per_token = models::training_flops_per_token(s.model(), T);
  r.peak_flops = s.peak_flops() > 0 ? s.peak_flops() : measure_peak_flops();
  return absl::OkStatus();
}

struct StepOutcome {
  LossValues mean;  // over the micro-batches
  StepResult update;
};

// grad_accum micro-batches, each backpropagated as loss / grad_accum, then one optimizer step.
StatusOr<StepOutcome> train_step(Run& r, double lr) {
  const int64_t A = r.spec.grad_accum_steps(), B = r.spec.batch_size(), T = r.spec.seq_len();
  std::vector<int32_t> inputs(B * T), targets(B * T);
  StepOutcome o;
  for (int64_t a = 0; a < A; ++a) {
    MONE_RETURN_IF_ERROR(r.loader->next(inputs.data(), targets.data()));
    MONE_ASSIGN_OR_RETURN(Tensor ids, Tensor::from_vector(inputs, {B, T}));
    MONE_ASSIGN_OR_RETURN(Tensor tgt, Tensor::from_vector(targets, {B, T}));
    MONE_ASSIGN_OR_RETURN(models::ModelOutput out, r.model->forward(ids, tgt));
    o.mean += LossValues::of(out);
    r.load.add(out.layers);
    MONE_RETURN_IF_ERROR(backward_mean(out.loss, A));
  }
  o.mean = o.mean.scaled(1.0 / static_cast<double>(A));
  MONE_ASSIGN_OR_RETURN(o.update, r.optimizer->step(r.params, lr, o.mean.loss));
  return o;
}

Status evaluate_now(Run& r, int64_t step, TrainSummary& summary, Console& console) {
  if (!r.val) return absl::OkStatus();
  MONE_ASSIGN_OR_RETURN(EvalResult e, evaluate(*r.model, *r.val, r.spec.eval_batches()));
  nlohmann::ordered_json record = {{"step", step}};
  record.update(eval_result_json(e));
  MONE_RETURN_IF_ERROR(r.metrics->write(record));
  summary.val_losses.emplace_back(step, e.mean.ce);
  console.say("step %lld: val loss %.4f (perplexity %.2f, %lld tokens)", static_cast<long long>(step), e.mean.ce,
              e.perplexity(), static_cast<long long>(e.tokens));
  return absl::OkStatus();
}

Status checkpoint_now(Run& r, TrainSummary& summary) {
  r.state.optimizer_step = r.optimizer->step_count();
  r.state.data_position = r.loader->position();
  MONE_ASSIGN_OR_RETURN(summary.last_checkpoint,
                        save_checkpoint(r.run_dir, r.params, *r.optimizer, r.state, r.spec.model(),
                                        static_cast<int>(r.spec.keep_checkpoints())));
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
  const int64_t per_step = spec.batch_size() * spec.seq_len() * spec.grad_accum_steps();
  return std::max<int64_t>(1, spec.token_budget() / std::max<int64_t>(1, per_step));
}

StatusOr<TrainSummary> run_training(const proto::TrainSpec& spec, const TrainOptions& opt) {
  Console console(opt.log);
  Run r;
  MONE_RETURN_IF_ERROR(set_up(r, spec, opt, console));
  SignalGuard signals;
  const proto::TrainSpec& s = r.spec;
  TrainSummary summary;
  summary.start_step = summary.final_step = r.state.step;
  summary.total_steps = r.total_steps;
  console.say("training %s: %lld parameters, %lld steps of %lld tokens, %d threads, peak %.1f GFLOP/s%s",
              s.model().name().empty() ? "model" : s.model().name().c_str(),
              static_cast<long long>(models::count_parameters(r.params)), static_cast<long long>(r.total_steps),
              static_cast<long long>(s.batch_size() * s.seq_len() * s.grad_accum_steps()), num_threads(),
              r.peak_flops / 1e9, s.peak_flops() > 0 ? " (given)" : " (measured sgemm 512^3)");
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
    const bool stop = requested || g_stop_signal != 0 || (opt.stop_after_step > 0 && done >= opt.stop_after_step);
    if (multiple(done, s.checkpoint_interval()) || done == r.total_steps || stop) {
      MONE_RETURN_IF_ERROR(checkpoint_now(r, summary));
    }
    if (stop && done < r.total_steps) {
      summary.stopped_early = true;
      const char* why = g_stop_signal == SIGINT    ? "SIGINT"
                        : g_stop_signal == SIGTERM ? "SIGTERM"
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

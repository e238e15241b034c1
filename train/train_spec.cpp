#include "train/train_spec.h"

#include <glob.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>

#include "absl/strings/str_join.h"
#include "models/spec.h"
#include "models/transformer.h"

namespace mone::train {

namespace {

namespace fs = std::filesystem;

Status parse_into(const std::string& text, const std::string& source, proto::TrainSpec& spec) {
  return models::merge_textproto(text, source, &spec);
}

Status positive(const std::string& source, const char* field, double value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(source, ": field ", field, " = ", value, ": must be > 0"));
}

// The fields that name files: inputs are looked for beside the spec, run_dir is an output.
constexpr const char* kInputPathFields[] = {"model_spec", "train_data", "val_data", "tokenizer"};
constexpr const char* kOutputPathField = "run_dir";

bool is_path_field(const std::string& name) {
  for (const char* f : kInputPathFields) {
    if (name == f) return true;
  }
  return name == kOutputPathField;
}

// Fields that change where files go, what is logged, evaluated or kept, but not the weights.
bool affects_training(const std::string& name) {
  for (const char* f : {"model_spec", "val_data", "run_dir", "eval_interval", "eval_batches", "checkpoint_interval",
                        "keep_checkpoints", "log_interval", "peak_flops", "device", "tokenizer", "overlap_grad_reduce"}) {
    if (name == f) return false;
  }
  return true;
}

// A file or directory, or a glob that matches something.
bool exists_or_matches(const std::string& path) {
  if (path.find_first_of("*?[") == std::string::npos) {
    std::error_code ec;
    return fs::exists(path, ec);
  }
  glob_t g{};
  const bool found = ::glob(path.c_str(), 0, nullptr, &g) == 0 && g.gl_pathc > 0;
  ::globfree(&g);
  return found;
}

// The same file for two spellings of a path (symbolic links followed).
std::string canonical_path(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? absolute_path(path) : absolute_path(p.string());
}

std::string field_text(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f) {
  std::string text;
  google::protobuf::TextFormat::PrintFieldValueToString(m, f, -1, &text);
  return text;
}

}  // namespace

std::string absolute_path(const std::string& path) {
  if (path.empty()) return path;
  std::string p = fs::absolute(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

Status resolve_spec_paths(proto::TrainSpec& spec, const std::string& source, const std::string& spec_dir) {
  const auto* d = spec.GetDescriptor();
  const auto* r = spec.GetReflection();
  for (const char* name : kInputPathFields) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(name);
    const std::string value = r->GetString(spec, f);
    if (value.empty() || fs::path(value).is_absolute()) continue;
    std::vector<std::string> tried;
    if (!spec_dir.empty()) tried.push_back(absolute_path((fs::path(spec_dir) / value).string()));
    tried.push_back(absolute_path(value));
    const auto found = std::find_if(tried.begin(), tried.end(), exists_or_matches);
    if (found == tried.end()) {
      return absl::NotFoundError(absl::StrCat(
          source, ": field ", name, " = \"", value, "\": ",
          tried.size() == 2 ? absl::StrCat("neither ", tried[0], " (beside the spec) nor ", tried[1],
                                           " (the working directory) exists")
                            : absl::StrCat(tried[0], " does not exist")));
    }
    r->SetString(&spec, f, *found);
  }
  if (!spec.run_dir().empty()) spec.set_run_dir(absolute_path(spec.run_dir()));
  return absl::OkStatus();
}

Status inline_model(proto::TrainSpec& spec, const std::string& source, const std::string& spec_dir) {
  MONE_RETURN_IF_ERROR(resolve_spec_paths(spec, source, spec_dir));
  if (spec.has_model()) return absl::OkStatus();
  if (spec.model_spec().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": neither model nor model_spec is set"));
  }
  MONE_ASSIGN_OR_RETURN(*spec.mutable_model(), models::load_model_spec(spec.model_spec()));
  return absl::OkStatus();
}

std::vector<SpecChange> spec_changes(const proto::TrainSpec& before, const proto::TrainSpec& after) {
  std::vector<SpecChange> changes;
  const auto* d = before.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->name() == "model") continue;
    std::string a = field_text(before, f), b = field_text(after, f);
    if (is_path_field(f->name())) {
      const auto* r = before.GetReflection();
      if (canonical_path(r->GetString(before, f)) == canonical_path(r->GetString(after, f))) continue;
    } else if (a == b) {
      continue;
    }
    changes.push_back({f->name(), a, b, affects_training(f->name())});
  }
  return changes;
}

std::string describe_changes(const std::vector<SpecChange>& changes) {
  std::vector<std::string> parts;
  for (const SpecChange& c : changes) parts.push_back(absl::StrCat(c.field, " ", c.before, " -> ", c.after));
  return absl::StrJoin(parts, ", ");
}

StatusOr<proto::TrainSpec> load_train_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the train spec"));
  std::stringstream text;
  text << in.rdbuf();
  proto::TrainSpec spec;
  MONE_RETURN_IF_ERROR(parse_into(text.str(), path, spec));
  return spec;
}

StatusOr<proto::TrainSpec> parse_train_spec(const std::string& text, const std::string& source) {
  proto::TrainSpec spec;
  MONE_RETURN_IF_ERROR(parse_into(text, source, spec));
  return spec;
}

Status apply_override(proto::TrainSpec& spec, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", assignment, ": expected field=value"));
  }
  const std::string path = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  // Walk the dotted path to find the leaf field's type, and build "a { b: v }" textproto.
  const google::protobuf::Descriptor* d = spec.GetDescriptor();
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string open, close;
  for (size_t i = 0; i < parts.size(); ++i) {
    const google::protobuf::FieldDescriptor* f = d ? d->FindFieldByName(parts[i]) : nullptr;
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("--set ", assignment, ": no field ", parts[i], " in ",
                                                     d ? d->name() : "a scalar"));
    }
    if (i + 1 < parts.size()) {
      if (f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
        return absl::InvalidArgumentError(absl::StrCat("--set ", assignment, ": ", parts[i], " is not a message"));
      }
      absl::StrAppend(&open, parts[i], " { ");
      close += " }";
      d = f->message_type();
    } else {
      const bool quote = f->type() == google::protobuf::FieldDescriptor::TYPE_STRING;
      const std::string v = i == 0 && is_path_field(parts[i]) ? absolute_path(value) : value;
      absl::StrAppend(&open, parts[i], ": ", quote ? "\"" : "", v, quote ? "\"" : "");
    }
  }
  return parse_into(open + close, absl::StrCat("--set ", assignment), spec);
}

Status resolve_train_spec(proto::TrainSpec& spec, const std::string& source, const std::string& spec_dir) {
  MONE_RETURN_IF_ERROR(inline_model(spec, source, spec_dir));
  if (spec.vocab_size() > 0) spec.mutable_model()->set_vocab_size(spec.vocab_size());
  const std::string model_source = spec.model_spec().empty() ? source + " (model)" : spec.model_spec();
  MONE_RETURN_IF_ERROR(models::validate_model_spec(spec.model(), model_source));
  MONE_RETURN_IF_ERROR(positive(source, "batch_size", spec.batch_size()));
  MONE_RETURN_IF_ERROR(positive(source, "seq_len", spec.seq_len()));
  MONE_RETURN_IF_ERROR(positive(source, "grad_accum_steps", spec.grad_accum_steps()));
  MONE_RETURN_IF_ERROR(positive(source, "lr", spec.lr()));
  // Tokens per optimizer step, bounded so that every count derived from it (token budgets,
  // loader windows, eval batches) fits an int64.
  int64_t tokens_per_step = 0;
  if (__builtin_mul_overflow(spec.batch_size(), spec.seq_len(), &tokens_per_step) ||
      __builtin_mul_overflow(tokens_per_step, spec.grad_accum_steps(), &tokens_per_step) ||
      tokens_per_step > kMaxTokensPerStep) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": batch_size × seq_len × grad_accum_steps = ", spec.batch_size(), " × ", spec.seq_len(), " × ",
        spec.grad_accum_steps(), " tokens per step, more than mone handles (2^40)"));
  }
  MONE_RETURN_IF_ERROR(positive(source, "grad_bucket_mb", spec.grad_bucket_mb()));
  MONE_RETURN_IF_ERROR(positive(source, "collective_timeout_s", spec.collective_timeout_s()));
  if (spec.seq_len() > spec.model().max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": field seq_len = ", spec.seq_len(),
                                                   ": exceeds the model's max_position_embeddings (",
                                                   spec.model().max_position_embeddings(), ")"));
  }
  if (spec.steps() <= 0 && spec.token_budget() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": set steps or token_budget (both are 0)"));
  }
  if (spec.device() != "cpu" && spec.device() != "cuda") {
    return absl::InvalidArgumentError(absl::StrCat(source, ": field device = \"", spec.device(),
                                                   "\": expected \"cpu\" or \"cuda\""));
  }
  if (spec.precision() == proto::TrainSpec::BF16 && spec.device() != "cuda") {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": field precision = BF16 needs device \"cuda\" (this spec has device \"", spec.device(),
        "\"): bf16 mixed precision runs on the GPU only, the CPU kernels compute in f32; use --device cuda, "
        "or precision F32"));
  }
  if (spec.device() == "cuda") {
    const Status runs = models::check_runs_on(spec.model(), Device::cuda(0));
    if (!runs.ok()) return Status(runs.code(), absl::StrCat(source, ": ", runs.message()));
  }
  if (spec.train_data().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": field train_data is not set"));
  }
  if (spec.beta1() < 0 || spec.beta1() >= 1 || spec.beta2() < 0 || spec.beta2() >= 1) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": betas must lie in [0, 1)"));
  }
  return absl::OkStatus();
}

}  // namespace mone::train

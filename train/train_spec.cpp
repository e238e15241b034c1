#include "train/train_spec.h"

#include <fstream>
#include <sstream>

#include <google/protobuf/descriptor.h>

#include "models/spec.h"

namespace mone::train {

namespace {

Status parse_into(const std::string& text, const std::string& source, proto::TrainSpec& spec) {
  return models::merge_textproto(text, source, &spec);
}

Status positive(const std::string& source, const char* field, double value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(source, ": field ", field, " = ", value, ": must be > 0"));
}

}  // namespace

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
      absl::StrAppend(&open, parts[i], ": ", quote ? "\"" : "", value, quote ? "\"" : "");
    }
  }
  return parse_into(open + close, absl::StrCat("--set ", assignment), spec);
}

Status resolve_train_spec(proto::TrainSpec& spec, const std::string& source) {
  if (!spec.has_model()) {
    if (spec.model_spec().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": neither model nor model_spec is set"));
    }
    MONE_ASSIGN_OR_RETURN(proto::ModelSpec model, models::load_model_spec(spec.model_spec()));
    *spec.mutable_model() = model;
  }
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
  if (spec.train_data().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": field train_data is not set"));
  }
  if (spec.beta1() < 0 || spec.beta1() >= 1 || spec.beta2() < 0 || spec.beta2() >= 1) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": betas must lie in [0, 1)"));
  }
  return absl::OkStatus();
}

}  // namespace mone::train

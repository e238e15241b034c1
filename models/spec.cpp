// Model specs: textproto parsing with line:column errors, validation with field-naming errors.
#include "models/spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/text_format.h>

#include "absl/strings/escaping.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace mone::models {
namespace {

using proto::ModelSpec;

// Collects the text parser's errors as "line:column: message", counting from 1 for users.
//
// Protobuf blames some errors on the token after the culprit: an unknown enum value at the end of
// a line is reported at the start of the next line. When the message quotes an identifier that
// occurs in the text at or before the reported position, we point at its last such occurrence.
class ParseErrors : public google::protobuf::io::ErrorCollector {
 public:
  struct Position {
    int line, column;  // zero-based; column in bytes
    bool operator<(const Position& o) const {
      return line != o.line ? line < o.line : column < o.column;
    }
  };
  struct Error {
    std::optional<Position> at;  // none when protobuf knows no position
    std::string message;
  };

  explicit ParseErrors(const std::string& text) : lines_(absl::StrSplit(text, '\n')) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (line < 0) {  // protobuf knows no position
      errors_.push_back({std::nullopt, message});
      return;
    }
    std::optional<Position> best;
    for (const std::string& word : quoted_identifiers(message)) {
      const std::optional<Position> found = last_occurrence(word, {line, column});
      if (found && (!best || *best < *found)) best = found;
    }
    errors_.push_back({best.value_or(Position{line, column}), message});
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {}
  const std::vector<Error>& errors() const { return errors_; }

  // The "..."-quoted words of `message` that look like identifiers (field or enum value names).
  static std::vector<std::string> quoted_identifiers(const std::string& message) {
    std::vector<std::string> words;
    const std::vector<std::string> parts = absl::StrSplit(message, '"');
    for (size_t i = 1; i + 1 < parts.size(); i += 2) {  // odd parts sit between quotes
      const std::string& w = parts[i];
      if (!w.empty() && std::isalpha(static_cast<unsigned char>(w[0])) &&
          std::all_of(w.begin(), w.end(), is_word_char)) {
        words.push_back(w);
      }
    }
    return words;
  }

 private:
  static bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  }

  // The last whole-word occurrence of `word` that starts at or before `limit`.
  std::optional<Position> last_occurrence(const std::string& word, Position limit) const {
    for (int l = std::min(limit.line, static_cast<int>(lines_.size()) - 1); l >= 0; --l) {
      const std::string& text = lines_[l];
      size_t at =
          text.rfind(word, l == limit.line ? static_cast<size_t>(limit.column) : text.size());
      for (; at != std::string::npos; at = at == 0 ? std::string::npos : text.rfind(word, at - 1)) {
        const bool starts_word = at == 0 || !is_word_char(text[at - 1]);
        const bool ends_word =
            at + word.size() == text.size() || !is_word_char(text[at + word.size()]);
        if (starts_word && ends_word) return Position{l, static_cast<int>(at)};
      }
    }
    return std::nullopt;
  }

  std::vector<std::string> lines_;
  std::vector<Error> errors_;
};

// The enum field called `name` anywhere inside messages of type `d` (nested messages included).
const google::protobuf::FieldDescriptor* find_enum_field(const google::protobuf::Descriptor* d,
                                                         const std::string& name) {
  std::vector<const google::protobuf::Descriptor*> todo = {d};
  for (size_t i = 0; i < todo.size(); ++i) {
    for (int f = 0; f < todo[i]->field_count(); ++f) {
      const google::protobuf::FieldDescriptor* field = todo[i]->field(f);
      if (field->enum_type() != nullptr && field->name() == name) return field;
      const google::protobuf::Descriptor* m = field->message_type();
      if (m != nullptr && std::find(todo.begin(), todo.end(), m) == todo.end()) todo.push_back(m);
    }
  }
  return nullptr;
}

// For `Unknown enumeration value of "x" for field "f".`: the enum field f, and the value x.
struct UnknownEnum {
  const google::protobuf::FieldDescriptor* field = nullptr;
  std::string value;
};
UnknownEnum unknown_enum(const std::string& message, const google::protobuf::Descriptor* d) {
  if (message.rfind("Unknown enumeration value", 0) != 0) return {};
  const std::vector<std::string> words = ParseErrors::quoted_identifiers(message);
  if (words.size() != 2) return {};
  return {find_enum_field(d, words[1]), words[0]};
}

// "<source>: field <name> = <value>: <why>"
template <typename T>
Status field_error(const std::string& source, const std::string& field, const T& value,
                   const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": field ", field, " = ", value, ": ", why));
}
Status field_error(const std::string& source, const std::string& field, double value,
                   const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: field %s = %g: %s", source, field, value, why));
}

// A size the spec must set to a positive number.
Status require_positive(const std::string& source, const std::string& field, int64_t value) {
  if (value > 0) return absl::OkStatus();
  return field_error(source, field, value, "must be > 0");
}
// A count that may be zero but never negative.
Status require_non_negative(const std::string& source, const std::string& field, int64_t value) {
  if (value >= 0) return absl::OkStatus();
  return field_error(source, field, value, "must be >= 0");
}
// A real that must be finite and > 0 (norm eps, RoPE base, init std). NaN fails too.
Status require_positive_real(const std::string& source, const std::string& field, double value) {
  if (value > 0 && std::isfinite(value)) return absl::OkStatus();
  return field_error(source, field, value, "must be a finite number > 0");
}
// A loss weight: finite and >= 0 (0 switches the loss off).
Status require_loss_weight(const std::string& source, const std::string& field, double value) {
  if (value >= 0 && std::isfinite(value)) return absl::OkStatus();
  return field_error(source, field, value, "a loss weight must be a finite number >= 0");
}

Status validate_attention(const ModelSpec& s, const std::string& src) {
  MONE_RETURN_IF_ERROR(require_positive(src, "vocab_size", s.vocab_size()));
  MONE_RETURN_IF_ERROR(require_positive(src, "hidden_size", s.hidden_size()));
  MONE_RETURN_IF_ERROR(require_positive(src, "num_hidden_layers", s.num_hidden_layers()));
  MONE_RETURN_IF_ERROR(require_positive(src, "num_attention_heads", s.num_attention_heads()));
  if (s.hidden_size() % s.num_attention_heads() != 0) {
    return field_error(
        src, "hidden_size", s.hidden_size(),
        absl::StrCat("must be a multiple of num_attention_heads = ", s.num_attention_heads()));
  }
  // RoPE's rotate-half pairs dimension i with i + head_dim/2, so head_dim must be even.
  const int64_t hd = s.hidden_size() / s.num_attention_heads();
  if (hd % 2 != 0) {
    return field_error(src, "hidden_size", s.hidden_size(),
                       absl::StrCat("head_dim = hidden_size / num_attention_heads = ", hd,
                                    " is odd; RoPE (rotate-half) needs an even head_dim"));
  }
  MONE_RETURN_IF_ERROR(require_non_negative(src, "num_key_value_heads", s.num_key_value_heads()));
  if (s.num_key_value_heads() > 0 && s.num_attention_heads() % s.num_key_value_heads() != 0) {
    return field_error(src, "num_key_value_heads", s.num_key_value_heads(),
                       absl::StrCat("must divide num_attention_heads = ", s.num_attention_heads()));
  }
  MONE_RETURN_IF_ERROR(require_positive_real(src, "rms_norm_eps", s.rms_norm_eps()));
  MONE_RETURN_IF_ERROR(require_positive_real(src, "rope_theta", s.rope_theta()));
  MONE_RETURN_IF_ERROR(
      require_positive(src, "max_position_embeddings", s.max_position_embeddings()));
  if (!(s.clip_qkv() >= 0) || !std::isfinite(s.clip_qkv())) {
    return field_error(src, "clip_qkv", s.clip_qkv(), "must be a finite number >= 0 (0: no clamp)");
  }
  return absl::OkStatus();
}

// Which blocks are dense: decoder_sparse_step and mlp_only_layers.
Status validate_layer_kinds(const ModelSpec& s, const std::string& src) {
  MONE_RETURN_IF_ERROR(require_positive(src, "decoder_sparse_step", s.decoder_sparse_step()));
  std::set<int64_t> seen;
  for (int64_t layer : s.mlp_only_layers()) {
    if (layer < 0 || layer >= s.num_hidden_layers()) {
      return field_error(src, "mlp_only_layers", layer,
                         absl::StrCat("must be a layer index in [0, num_hidden_layers = ", s.num_hidden_layers(), ")"));
    }
    if (!seen.insert(layer).second) return field_error(src, "mlp_only_layers", layer, "is listed twice");
  }
  if (has_experts(s) && num_dense_layers(s) > 0 && s.intermediate_size() <= 0) {
    return field_error(src, "intermediate_size", s.intermediate_size(),
                       absl::StrCat("must be > 0: ", num_dense_layers(s),
                                    " layer(s) are dense SwiGLUs (decoder_sparse_step, mlp_only_layers)"));
  }
  return absl::OkStatus();
}

Status validate_experts(const ModelSpec& s, const std::string& src) {
  MONE_RETURN_IF_ERROR(require_positive(src, "num_experts", s.num_experts()));
  if (s.num_experts_per_tok() <= 0 || s.num_experts_per_tok() > s.num_experts()) {
    return field_error(src, "num_experts_per_tok", s.num_experts_per_tok(),
                       absl::StrCat("must be in [1, num_experts = ", s.num_experts(), "]"));
  }
  const int64_t D = s.moe_intermediate_size();
  MONE_RETURN_IF_ERROR(require_positive(src, "moe_intermediate_size", D));
  MONE_RETURN_IF_ERROR(require_non_negative(src, "num_shared_experts", s.num_shared_experts()));
  MONE_RETURN_IF_ERROR(require_non_negative(src, "shared_expert_intermediate_size",
                                            s.shared_expert_intermediate_size()));
  if (s.neuron_topk() < 0 || s.neuron_topk() > D) {
    return field_error(src, "neuron_topk", s.neuron_topk(),
                       absl::StrCat("must be in [0, moe_intermediate_size = ", D,
                                    "] (0 means moe_intermediate_size / 4)"));
  }
  if (s.ffn_type() == ModelSpec::MONE && effective_neuron_topk(s) == 0) {
    return field_error(src, "neuron_topk", s.neuron_topk(),
                       absl::StrCat("the default moe_intermediate_size / 4 = 0 for "
                                    "moe_intermediate_size = ",
                                    D, "; set neuron_topk >= 1"));
  }
  if (s.neuron_selector() != ModelSpec::ABS_GATE && s.ffn_type() != ModelSpec::MONE) {
    return field_error(src, "neuron_selector", ModelSpec::NeuronSelector_Name(s.neuron_selector()),
                       "needs ffn_type = MONE (keeping every neuron, there is nothing to select)");
  }
  if (s.shared_expert_neuron_topk() != 0) {
    const int64_t n = s.shared_expert_neuron_topk(), Ds = shared_expert_width(s);
    if (s.ffn_type() != ModelSpec::MONE || s.num_shared_experts() == 0) {
      return field_error(src, "shared_expert_neuron_topk", n, "needs ffn_type = MONE and num_shared_experts > 0");
    }
    if (n < 0 || n > Ds) {
      return field_error(src, "shared_expert_neuron_topk", n,
                         absl::StrCat("must be in [1, D_s = ", Ds, "] (0: the sparsify_shared_expert rule)"));
    }
    if (s.sparsify_shared_expert()) {
      return field_error(src, "shared_expert_neuron_topk", n, "set it or sparsify_shared_expert, not both");
    }
  }
  if (s.shared_expert_gate() && s.num_shared_experts() < 1) {
    return field_error(src, "shared_expert_gate", "true", "needs num_shared_experts >= 1 (it gates their output)");
  }
  if (s.sparsify_shared_expert()) {
    if (s.ffn_type() != ModelSpec::MONE) {
      return field_error(src, "sparsify_shared_expert", "true",
                         "needs ffn_type = MONE (only MoNE keeps a subset of neurons)");
    }
    if (s.num_shared_experts() > 0 && effective_neuron_topk(s) > shared_expert_width(s)) {
      return field_error(src, "sparsify_shared_expert", "true",
                         absl::StrCat("K_N = ", effective_neuron_topk(s),
                                      " exceeds the shared expert width ", shared_expert_width(s)));
    }
  }
  return absl::OkStatus();
}

// Parameter counts must fit comfortably in int64 (spec_stats counts them exactly).
Status validate_magnitude(const ModelSpec& s, const std::string& src) {
  const long double V = s.vocab_size(), d = s.hidden_size(), L = s.num_hidden_layers();
  long double moe = 0;
  if (has_experts(s)) {
    moe = 3.0L * d * s.moe_intermediate_size() * s.num_experts() +
          3.0L * d * shared_expert_width(s) * s.num_shared_experts();
  }
  const long double ffn = static_cast<long double>(num_moe_layers(s)) * moe +
                          static_cast<long double>(num_dense_layers(s)) * 3.0L * d * s.intermediate_size();
  const long double approx = 2 * V * d + L * 4 * d * d + ffn + s.max_position_embeddings();
  constexpr long double kLimit = 1e15L;
  if (approx > kLimit) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the spec describes about %.3Lg parameters, more than mone handles (%.0Lg); "
        "check hidden_size, num_hidden_layers, vocab_size and the expert sizes",
        src, approx, kLimit));
  }
  return absl::OkStatus();
}

}  // namespace

int64_t head_dim(const proto::ModelSpec& spec) {
  return spec.hidden_size() / spec.num_attention_heads();
}

int64_t num_kv_heads(const proto::ModelSpec& spec) {
  return spec.num_key_value_heads() > 0 ? spec.num_key_value_heads() : spec.num_attention_heads();
}

int64_t shared_expert_width(const proto::ModelSpec& spec) {
  return spec.shared_expert_intermediate_size() > 0 ? spec.shared_expert_intermediate_size()
                                                    : spec.moe_intermediate_size();
}

bool has_experts(const proto::ModelSpec& spec) {
  return spec.ffn_type() == ModelSpec::MOE || spec.ffn_type() == ModelSpec::MONE;
}

// Every step-th layer is routed (Qwen2-MoE's decoder_sparse_step), unless mlp_only_layers names it.
namespace {
bool on_sparse_step(int64_t layer, int64_t step) { return (layer + 1) % step == 0; }
}  // namespace

bool is_moe_layer(const proto::ModelSpec& spec, int64_t layer) {
  if (!has_experts(spec) || spec.decoder_sparse_step() < 1) return false;
  for (int64_t dense : spec.mlp_only_layers()) {
    if (dense == layer) return false;
  }
  return on_sparse_step(layer, spec.decoder_sparse_step());
}

// Counted without visiting every layer: a spec may name any num_hidden_layers, and validation
// must answer at once (every step-th layer is routed, less the distinct mlp_only_layers among them).
int64_t num_moe_layers(const proto::ModelSpec& spec) {
  const int64_t L = spec.num_hidden_layers(), step = spec.decoder_sparse_step();
  if (!has_experts(spec) || step < 1 || L <= 0) return 0;
  int64_t n = L / step;
  const std::set<int64_t> dense(spec.mlp_only_layers().begin(), spec.mlp_only_layers().end());
  for (int64_t layer : dense) n -= (layer >= 0 && layer < L && on_sparse_step(layer, step));
  return n;
}

int64_t num_dense_layers(const proto::ModelSpec& spec) {
  return spec.num_hidden_layers() - num_moe_layers(spec);
}

int64_t effective_neuron_topk(const proto::ModelSpec& spec) {
  switch (spec.ffn_type()) {
    case ModelSpec::MOE:
      return spec.moe_intermediate_size();
    case ModelSpec::MONE:
      return spec.neuron_topk() > 0 ? spec.neuron_topk() : spec.moe_intermediate_size() / 4;
    case ModelSpec::DENSE:
      return 0;
  }
  return 0;
}

int64_t shared_expert_neuron_topk(const proto::ModelSpec& spec) {
  if (spec.shared_expert_neuron_topk() > 0) return spec.shared_expert_neuron_topk();
  return spec.sparsify_shared_expert() ? effective_neuron_topk(spec) : shared_expert_width(spec);
}

Status validate_model_spec(const proto::ModelSpec& spec, const std::string& source_name) {
  const std::string& src = source_name;
  // The name is written into config.json, and JSON text is UTF-8.
  if (!google::protobuf::internal::IsStructurallyValidUTF8(spec.name())) {
    return field_error(src, "name", absl::StrCat("\"", absl::CEscape(spec.name()), "\""), "must be valid UTF-8");
  }
  MONE_RETURN_IF_ERROR(validate_attention(spec, src));
  if (spec.ffn_type() == ModelSpec::DENSE) {
    MONE_RETURN_IF_ERROR(require_positive(src, "intermediate_size", spec.intermediate_size()));
    if (spec.sparsify_shared_expert()) {
      return field_error(src, "sparsify_shared_expert", "true",
                         "needs ffn_type = MONE (only MoNE keeps a subset of neurons)");
    }
  } else {
    MONE_RETURN_IF_ERROR(validate_experts(spec, src));
  }
  MONE_RETURN_IF_ERROR(validate_layer_kinds(spec, src));
  MONE_RETURN_IF_ERROR(
      require_loss_weight(src, "router_aux_loss_coef", spec.router_aux_loss_coef()));
  MONE_RETURN_IF_ERROR(require_loss_weight(src, "router_z_loss_coef", spec.router_z_loss_coef()));
  MONE_RETURN_IF_ERROR(
      require_loss_weight(src, "neuron_aux_loss_coef", spec.neuron_aux_loss_coef()));
  MONE_RETURN_IF_ERROR(require_positive_real(src, "initializer_range", spec.initializer_range()));
  return validate_magnitude(spec, src);
}

Status merge_textproto(const std::string& text_in, const std::string& source_name,
                       google::protobuf::Message* message) {
  // Parse (not Merge) into a fresh message, so a singular field given twice is an error; then
  // merge that into `message`. An enum value in another letter case ("sigmoid", as config.json
  // writes it) is rewritten to its name and the text parsed again.
  std::string text = text_in;
  const google::protobuf::Descriptor* d = message->GetDescriptor();
  for (;;) {
    ParseErrors errors(text);
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    std::unique_ptr<google::protobuf::Message> parsed(message->New());
    if (parser.ParseFromString(text, parsed.get())) {
      message->MergeFrom(*parsed);
      return absl::OkStatus();
    }
    if (errors.errors().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(source_name, ": not a ", d->name(), " textproto"));
    }
    const ParseErrors::Error& first = errors.errors().front();
    const UnknownEnum bad = unknown_enum(first.message, d);
    const google::protobuf::EnumValueDescriptor* value =
        bad.field ? find_enum_value(bad.field->enum_type(), bad.value) : nullptr;
    if (value != nullptr && first.at) {  // e.g. "sigmoid": write SIGMOID there and parse again
      std::vector<std::string> lines = absl::StrSplit(text, '\n');
      lines[first.at->line].replace(first.at->column, bad.value.size(), value->name());
      text = absl::StrJoin(lines, "\n");
      continue;
    }
    std::vector<std::string> messages;
    for (const ParseErrors::Error& e : errors.errors()) {
      std::string m = e.at ? absl::StrCat(e.at->line + 1, ":", e.at->column + 1, ": ", e.message) : e.message;
      const UnknownEnum u = unknown_enum(e.message, d);
      if (u.field) absl::StrAppend(&m, " Allowed: ", enum_value_names(u.field->enum_type()), " (any letter case).");
      messages.push_back(m);
    }
    return absl::InvalidArgumentError(absl::StrCat(source_name, ":", absl::StrJoin(messages, "; ")));
  }
}

const google::protobuf::EnumValueDescriptor* find_enum_value(const google::protobuf::EnumDescriptor* type,
                                                             std::string_view name) {
  for (int i = 0; i < type->value_count(); ++i) {
    const std::string& n = type->value(i)->name();
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::toupper(static_cast<unsigned char>(a)) == std::toupper(static_cast<unsigned char>(b));
        })) {
      return type->value(i);
    }
  }
  return nullptr;
}

std::string enum_value_names(const google::protobuf::EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) names.push_back(type->value(i)->name());
  return absl::StrJoin(names, ", ");
}

std::string lower_case(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

StatusOr<proto::ModelSpec> parse_model_spec(const std::string& text,
                                            const std::string& source_name) {
  proto::ModelSpec spec;
  MONE_RETURN_IF_ERROR(merge_textproto(text, source_name, &spec));
  MONE_RETURN_IF_ERROR(validate_model_spec(spec, source_name));
  return spec;
}

StatusOr<proto::ModelSpec> load_model_spec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open model spec file"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": error while reading model spec"));
  return parse_model_spec(text.str(), path);
}

std::string model_spec_to_text(const proto::ModelSpec& spec) {
  // TextFormat skips unset proto2 fields; set each one to its (possibly default) value first so
  // the text says everything the model depends on, even if a default changes later.
  proto::ModelSpec full = spec;
  const auto* descriptor = full.GetDescriptor();
  const auto* reflection = full.GetReflection();
  using Field = google::protobuf::FieldDescriptor;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const Field* f = descriptor->field(i);
    if (f->is_repeated() || reflection->HasField(full, f)) continue;  // a list is written when not empty
    switch (f->cpp_type()) {
      case Field::CPPTYPE_INT64:
        reflection->SetInt64(&full, f, f->default_value_int64());
        break;
      case Field::CPPTYPE_DOUBLE:
        reflection->SetDouble(&full, f, f->default_value_double());
        break;
      case Field::CPPTYPE_BOOL:
        reflection->SetBool(&full, f, f->default_value_bool());
        break;
      case Field::CPPTYPE_STRING:
        reflection->SetString(&full, f, f->default_value_string());
        break;
      case Field::CPPTYPE_ENUM:
        reflection->SetEnum(&full, f, f->default_value_enum());
        break;
      default:
        MONE_CHECK(false) << "ModelSpec field " << f->name() << " has an unhandled type";
    }
  }
  std::string text;
  MONE_CHECK(google::protobuf::TextFormat::PrintToString(full, &text));
  return text;
}

}  // namespace mone::models

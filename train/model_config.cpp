#include "train/model_config.h"

#include <google/protobuf/descriptor.h>

#include "models/spec.h"

namespace mone::train {
namespace {

using Field = google::protobuf::FieldDescriptor;

Status wrong_type(const std::string& source, const std::string& key, const char* expected) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": key \"", key, "\" must be ", expected));
}

// Sets field f of spec from one JSON value.
Status set_field(proto::ModelSpec& spec, const Field* f, const nlohmann::json& value, const std::string& source) {
  const auto* r = spec.GetReflection();
  const std::string& key = f->name();
  if (f->is_repeated()) {  // a list of integers (mlp_only_layers)
    if (f->cpp_type() != Field::CPPTYPE_INT64) {
      return absl::InternalError(absl::StrCat("config.json: ModelSpec list field ", key, " has an unsupported type"));
    }
    if (!value.is_array()) return wrong_type(source, key, "a list of integers");
    r->ClearField(&spec, f);
    for (const nlohmann::json& v : value) {
      if (!v.is_number_integer()) return wrong_type(source, key, "a list of integers");
      r->AddInt64(&spec, f, v.get<int64_t>());
    }
    return absl::OkStatus();
  }
  switch (f->cpp_type()) {
    case Field::CPPTYPE_INT64:
      if (!value.is_number_integer()) return wrong_type(source, key, "an integer");
      r->SetInt64(&spec, f, value.get<int64_t>());
      return absl::OkStatus();
    case Field::CPPTYPE_DOUBLE:
      if (!value.is_number()) return wrong_type(source, key, "a number");
      r->SetDouble(&spec, f, value.get<double>());
      return absl::OkStatus();
    case Field::CPPTYPE_BOOL:
      if (!value.is_boolean()) return wrong_type(source, key, "true or false");
      r->SetBool(&spec, f, value.get<bool>());
      return absl::OkStatus();
    case Field::CPPTYPE_STRING:
      if (!value.is_string()) return wrong_type(source, key, "a string");
      r->SetString(&spec, f, value.get<std::string>());
      return absl::OkStatus();
    case Field::CPPTYPE_ENUM: {
      if (!value.is_string()) return wrong_type(source, key, "a string");
      const auto* v = models::find_enum_value(f->enum_type(), value.get<std::string>());
      if (v == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(source, ": key \"", key, "\" has an unknown value \"",
                                                       value.get<std::string>(), "\"; allowed: ",
                                                       models::lower_case(models::enum_value_names(f->enum_type()))));
      }
      r->SetEnum(&spec, f, v);
      return absl::OkStatus();
    }
    default:
      return absl::InternalError(absl::StrCat("config.json: ModelSpec field ", key, " has an unsupported type"));
  }
}

}  // namespace

nlohmann::json model_config_json(const proto::ModelSpec& spec_in) {
  proto::ModelSpec spec = spec_in;
  spec.set_num_key_value_heads(models::num_kv_heads(spec_in));
  if (models::has_experts(spec_in)) {
    spec.set_shared_expert_intermediate_size(models::shared_expert_width(spec_in));
    spec.set_neuron_topk(models::effective_neuron_topk(spec_in));
  }
  nlohmann::json config;
  config["architectures"] = {"MoneForCausalLM"};
  config["model_type"] = "mone";
  config["torch_dtype"] = "float32";
  const auto* d = spec.GetDescriptor();
  const auto* r = spec.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const Field* f = d->field(i);
    if (f->is_repeated()) {  // mlp_only_layers: a list of integers, [] when empty
      nlohmann::json list = nlohmann::json::array();
      for (int j = 0; j < r->FieldSize(spec, f); ++j) list.push_back(r->GetRepeatedInt64(spec, f, j));
      config[f->name()] = list;
      continue;
    }
    switch (f->cpp_type()) {
      case Field::CPPTYPE_INT64: config[f->name()] = r->GetInt64(spec, f); break;
      case Field::CPPTYPE_DOUBLE: config[f->name()] = r->GetDouble(spec, f); break;
      case Field::CPPTYPE_BOOL: config[f->name()] = r->GetBool(spec, f); break;
      case Field::CPPTYPE_STRING: config[f->name()] = r->GetString(spec, f); break;
      case Field::CPPTYPE_ENUM: config[f->name()] = models::lower_case(r->GetEnum(spec, f)->name()); break;
      default: break;
    }
  }
  return config;
}

StatusOr<proto::ModelSpec> model_spec_from_config_json(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) return absl::InvalidArgumentError(absl::StrCat(source, ": expected a JSON object"));
  proto::ModelSpec spec;
  for (const auto& [key, value] : config.items()) {
    // Keys that name no field (architectures, model_type, torch_dtype, other tools') are ignored.
    MONE_RETURN_IF_ERROR(set_model_spec_field(spec, key, value, source).status());
  }
  MONE_RETURN_IF_ERROR(models::validate_model_spec(spec, source));
  return spec;
}

StatusOr<bool> set_model_spec_field(proto::ModelSpec& spec, const std::string& key, const nlohmann::json& value,
                                    const std::string& source) {
  const Field* f = spec.GetDescriptor()->FindFieldByName(key);
  if (f == nullptr) return false;
  MONE_RETURN_IF_ERROR(set_field(spec, f, value, source));
  return true;
}

}  // namespace mone::train

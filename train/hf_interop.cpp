#include "train/hf_interop.h"

#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "core/file_io.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpointing.h"
#include "train/hf_weights.h"
#include "train/model_config.h"

namespace mone::train {
namespace {

// Writes a new directory: `write_files` fills a temporary sibling, which is fsynced and renamed
// to `out` only when complete. `out` must not exist (nothing is overwritten).
Status write_new_directory(const std::string& out, const std::function<Status(const std::string& dir)>& write_files) {
  struct stat st;
  if (::stat(out.c_str(), &st) == 0) {
    return absl::AlreadyExistsError(absl::StrCat(out, ": already exists; give a new directory (nothing was overwritten)"));
  }
  const std::string tmp = absl::StrCat(out, ".tmp-", ::getpid());
  MONE_RETURN_IF_ERROR(remove_tree(tmp));
  MONE_RETURN_IF_ERROR(make_directories(tmp));
  Status s = write_files(tmp);
  if (s.ok()) s = fsync_dir(tmp);
  if (s.ok()) s = rename_path(tmp, out);
  if (s.ok()) s = fsync_dir(parent_dir(out));
  if (!s.ok()) remove_tree(tmp).IgnoreError();
  return s;
}

}  // namespace

StatusOr<std::unique_ptr<models::Transformer>> load_hf_model(const std::string& dir, DType dtype,
                                                             HfArchitecture* arch) {
  const std::string config_path = join_path(dir, kModelConfigFileName);
  MONE_ASSIGN_OR_RETURN(nlohmann::json config, read_json_file(config_path));
  MONE_ASSIGN_OR_RETURN(HfModelConfig hf, read_hf_config(config, config_path));
  std::string name = dir;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  hf.spec.set_name(base_name(name));  // "OLMoE-1B-7B-0924" for ~/models/OLMoE-1B-7B-0924/
  MONE_ASSIGN_OR_RETURN(std::unique_ptr<models::Transformer> model, models::Transformer::create(hf.spec, 0, dtype));
  MONE_RETURN_IF_ERROR(load_hf_weights(dir, hf.arch, model->parameters()));
  if (arch) *arch = hf.arch;
  return model;
}

StatusOr<HfArchitecture> import_hf_model(const std::string& from, const std::string& out) {
  HfArchitecture arch;
  MONE_ASSIGN_OR_RETURN(std::unique_ptr<models::Transformer> model, load_hf_model(from, DType::kF32, &arch));
  MONE_RETURN_IF_ERROR(write_new_directory(out, [&](const std::string& dir) -> Status {
    MONE_RETURN_IF_ERROR(write_safetensors(join_path(dir, kModelFileName), models::checkpoint_tensors(model->parameters()),
                                           {{"format", "pt"}, {"imported_from", hf_architecture_name(arch)}}));
    return write_json_file_atomic(join_path(dir, kModelConfigFileName), model_config_json(model->spec()));
  }));
  return arch;
}

StatusOr<HfArchitecture> export_hf_model(const models::Transformer& model, const std::string& out, DType dtype) {
  if (dtype != DType::kF32 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError(absl::StrCat("export writes f32 or bf16 weights, not ", dtype_name(dtype)));
  }
  MONE_ASSIGN_OR_RETURN(HfArchitecture arch, choose_hf_architecture(model.spec()));
  MONE_ASSIGN_OR_RETURN(models::NamedTensorList tensors, hf_export_tensors(model, arch, dtype));
  const nlohmann::json config = hf_config_json(model.spec(), arch, dtype == DType::kBF16 ? "bfloat16" : "float32");
  MONE_RETURN_IF_ERROR(write_new_directory(out, [&](const std::string& dir) -> Status {
    MONE_RETURN_IF_ERROR(write_safetensors(join_path(dir, kModelFileName), tensors, {{"format", "pt"}}));
    return write_json_file_atomic(join_path(dir, kModelConfigFileName), config);
  }));
  return arch;
}

}  // namespace mone::train

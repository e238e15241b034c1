// mone export --checkpoint CKPT --to DIR [--dtype f32|bf16]
//
// Writes a mone MoE or MoNE model as the Hugging Face transformers architecture that computes it
// exactly (Mixtral, Qwen2-MoE or OLMoE), so transformers' from_pretrained(DIR) loads it. A MoNE
// model keeps its neuron top-k in config.json, but transformers runs every neuron of every
// expert (the MoE with K_N = D). docs/INTEROP.md.
#include <cstdio>

#include "cli/commands.h"
#include "train/checkpointing.h"
#include "train/hf_interop.h"

namespace mone::cli {

void add_export_command(CLI::App& app) {
  struct Args {
    std::string checkpoint, to, dtype = "f32";
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("export", "Export a checkpoint as a Hugging Face transformers model");
  cmd->footer(
      "The architecture: OLMoE when the model has q/k norms; Mixtral when it has no shared expert,\n"
      "no biases, every layer routed and renormalised router weights; Qwen2-MoE otherwise. A model\n"
      "no architecture computes exactly is refused with the field that prevents it. transformers'\n"
      "AutoModelForCausalLM.from_pretrained(DIR) loads the result. Example:\n"
      "  mone export --checkpoint runs/tiny_mone --to hf/tiny_mone");
  cmd->add_option("--checkpoint", args->checkpoint,
                  "A checkpoint directory, a run directory (its newest valid checkpoint) or a transformers directory")
      ->required();
  cmd->add_option("--to", args->to, "The directory to write (must not exist)")->required();
  cmd->add_option("--dtype", args->dtype, "Weights in f32 or bf16")->check(CLI::IsMember({"f32", "bf16"}))->capture_default_str();
  set_command_action(cmd, [args]() -> Status {
    std::string dir;
    MONE_ASSIGN_OR_RETURN(auto model, train::load_model_from_checkpoint(args->checkpoint, &dir));
    MONE_ASSIGN_OR_RETURN(train::HfArchitecture arch,
                          train::export_hf_model(*model, args->to, args->dtype == "bf16" ? DType::kBF16 : DType::kF32));
    std::printf("exported %s as %s into %s (config.json, model.safetensors, %s)\n", dir.c_str(),
                train::hf_architecture_name(arch), args->to.c_str(), args->dtype.c_str());
    if (model->spec().ffn_type() == proto::ModelSpec::MONE) {
      std::printf("note: a MoNE model; transformers ignores neuron_topk and runs every neuron (the MoE with K_N = D)\n");
    }
    return absl::OkStatus();
  });
}

}  // namespace mone::cli

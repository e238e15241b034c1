// mone import --from DIR --out CKPT_DIR
//
// Reads a Hugging Face transformers MoE model (Mixtral, Qwen2-MoE, OLMoE: config.json with
// model.safetensors or sharded safetensors, f32/bf16/f16) and writes it as a mone model directory
// that every command taking --checkpoint reads. Those commands also read the transformers
// directory directly; importing once saves converting it at every load. docs/INTEROP.md.
#include <cstdio>

#include "cli/commands.h"
#include "train/checkpointing.h"
#include "train/hf_interop.h"

namespace mone::cli {

void add_import_command(CLI::App& app) {
  struct Args {
    std::string from, out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("import", "Import a Hugging Face MoE model (Mixtral, Qwen2-MoE, OLMoE) as a mone model");
  cmd->footer(
      "The model is built exactly as transformers 4.45.2 computes its architecture; anything mone\n"
      "would not compute the same (rope scaling, a sliding window, an unknown config key) is refused\n"
      "with a message naming it. docs/INTEROP.md has the name mapping. Example (a model that\n"
      "`mone export --help` wrote):\n"
      "  mone import --from hf/tiny_mone --out runs/tiny_mone_back\n"
      "  mone eval --checkpoint runs/tiny_mone_back --data data/fortunes --batches 4");
  cmd->add_option("--from", args->from, "A transformers model directory (config.json, model.safetensors or shards)")
      ->required();
  cmd->add_option("--out", args->out, "The mone model directory to write (must not exist)")->required();
  set_command_action(cmd, [args]() -> Status {
    MONE_ASSIGN_OR_RETURN(train::HfArchitecture arch, train::import_hf_model(args->from, args->out));
    std::printf("imported %s from %s into %s (config.json, model.safetensors)\n", train::hf_architecture_name(arch),
                args->from.c_str(), args->out.c_str());
    return absl::OkStatus();
  });
}

}  // namespace mone::cli

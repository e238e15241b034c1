// mone generate: sample text from a checkpoint with a KV cache.
#include <filesystem>

#include "cli/commands.h"
#include "train/checkpointing.h"
#include "train/generate.h"
#include "train/tokenizer/tokenizer_files.h"

namespace mone::cli {

namespace {
// --tokenizer, else tokenizer.json in the checkpoint directory or its run directory.
std::string find_tokenizer(const std::string& flag, const std::string& checkpoint) {
  if (!flag.empty()) return flag;
  for (const auto& dir : {std::filesystem::path(checkpoint), std::filesystem::path(checkpoint).parent_path()}) {
    if (std::filesystem::exists(dir / "tokenizer.json")) return (dir / "tokenizer.json").string();
  }
  return "";
}
}  // namespace

void add_generate_command(CLI::App& app) {
  struct Args {
    std::string checkpoint, tokenizer, prompt;
    int64_t samples = 1;
    train::SampleOptions options;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("generate", "Sample text from a checkpoint (KV cache; same seed, same text)");
  cmd->add_option("--checkpoint", args->checkpoint, "A checkpoint directory, or a run directory (its newest valid checkpoint)")
      ->required();
  cmd->add_option("--tokenizer", args->tokenizer,
                  "tokenizer.json (default: tokenizer.json in the checkpoint or run directory)");
  cmd->add_option("--prompt", args->prompt, "Text to continue (a document start is prepended)");
  cmd->add_option("--max-tokens", args->options.max_tokens, "Tokens to sample at most");
  cmd->add_option("--temperature", args->options.temperature, "Softmax temperature; 0 is greedy");
  cmd->add_option("--top-k", args->options.top_k, "Sample among the k most likely tokens (0: all)");
  cmd->add_option("--top-p", args->options.top_p, "Nucleus sampling mass (1: off)");
  cmd->add_option("--seed", args->options.seed, "Sampling seed");
  cmd->add_option("--samples", args->samples, "How many samples (seeds seed, seed+1, ...)");
  set_command_action(cmd, [args]() -> Status {
    const std::string tok_path = find_tokenizer(args->tokenizer, args->checkpoint);
    if (tok_path.empty()) {
      return absl::NotFoundError(absl::StrCat("no tokenizer.json in ", args->checkpoint, " or its parent; pass --tokenizer"));
    }
    MONE_ASSIGN_OR_RETURN(train::Tokenizer tok, train::load_tokenizer(tok_path));
    MONE_ASSIGN_OR_RETURN(auto model, train::load_model_from_checkpoint(args->checkpoint));
    if (tok.vocab_size() > model->spec().vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat(tok_path, ": the tokenizer has ", tok.vocab_size(),
                                                     " tokens, the model only ", model->spec().vocab_size()));
    }
    std::vector<int32_t> prompt = {tok.eot_id()};
    for (int32_t id : tok.encode(args->prompt)) prompt.push_back(id);
    for (int64_t s = 0; s < args->samples; ++s) {
      train::SampleOptions o = args->options;
      o.seed += s;
      o.stop_token = tok.eot_id();
      std::cout << args->prompt;
      MONE_ASSIGN_OR_RETURN(auto ids, train::generate(*model, prompt, o, [&](int32_t id) {
        if (id != tok.eot_id() && id < tok.vocab_size()) std::cout << tok.decode(std::vector<int32_t>{id}) << std::flush;
      }));
      std::cout << "\n";
      if (args->samples > 1) std::cout << "----\n";
    }
    return absl::OkStatus();
  });
}

}  // namespace mone::cli

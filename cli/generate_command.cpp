// mone generate: sample text from a checkpoint with a KV cache (docs/GENERATE.md).
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "train/checkpointing.h"
#include "train/generate.h"
#include "train/tokenizer/tokenizer_files.h"

namespace mone::cli {
namespace {

namespace fs = std::filesystem;

struct GenerateFlags {
  std::string checkpoint, tokenizer, prompt;
  std::vector<std::string> stops;
  int64_t samples = 1;
  train::SampleOptions options;
};

// The tokenizer.json `mone train --tokenizer` kept beside the model: in the checkpoint
// directory or its run directory. "" when there is none.
std::string kept_tokenizer(const std::string& checkpoint_dir) {
  for (const fs::path& dir : {fs::path(checkpoint_dir), fs::path(checkpoint_dir).parent_path()}) {
    if (fs::exists(dir / "tokenizer.json")) return (dir / "tokenizer.json").string();
  }
  return "";
}

bool same_tokenizer(const train::Tokenizer& a, const train::Tokenizer& b) {
  return a.parts().tokens == b.parts().tokens && a.merges() == b.merges();
}

// The tokenizer must be the one the model was trained with: the kept copy when the run has one,
// else one with exactly the model's vocabulary size.
Status check_tokenizer(const std::string& path, const train::Tokenizer& tok, const std::string& kept, int64_t V) {
  if (tok.vocab_size() > V) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the tokenizer has ", tok.vocab_size(), " tokens, the model only ", V));
  }
  if (!kept.empty()) {
    if (fs::equivalent(path, kept)) return absl::OkStatus();
    MONE_ASSIGN_OR_RETURN(train::Tokenizer trained_with, train::load_tokenizer(kept));
    if (same_tokenizer(tok, trained_with)) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(path, " (", tok.vocab_size(),
                                                   " tokens) is not the tokenizer the model was trained with, ",
                                                   kept, " (", trained_with.vocab_size(),
                                                   " tokens); leave out --tokenizer to use that one"));
  }
  if (tok.vocab_size() != V) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the tokenizer has ", tok.vocab_size(), " tokens, the model ", V,
        ": not the tokenizer the model was trained with (train with --tokenizer to keep it beside the model; "
        "when the model's vocabulary is padded on purpose, copy the right tokenizer.json into the run directory)"));
  }
  return absl::OkStatus();
}

Status run_generate(const GenerateFlags& f) {
  std::string dir;
  MONE_ASSIGN_OR_RETURN(auto model, train::load_model_from_checkpoint(f.checkpoint, &dir));
  const std::string kept = kept_tokenizer(dir);
  const std::string tok_path = f.tokenizer.empty() ? kept : f.tokenizer;
  if (tok_path.empty()) {
    return absl::NotFoundError(absl::StrCat("no tokenizer.json in ", dir, " or its run directory; pass --tokenizer"));
  }
  MONE_ASSIGN_OR_RETURN(train::Tokenizer tok, train::load_tokenizer(tok_path));
  MONE_RETURN_IF_ERROR(check_tokenizer(tok_path, tok, kept, model->spec().vocab_size()));
  if (!tok.has_eot()) return absl::InvalidArgumentError(absl::StrCat(tok_path, ": the tokenizer has no <|endoftext|>"));

  std::vector<int32_t> prompt = {tok.eot_id()};
  for (int32_t id : tok.encode(f.prompt)) prompt.push_back(id);
  for (int64_t s = 0; s < f.samples; ++s) {
    train::SampleOptions o = f.options;
    o.seed += s;
    o.stop_token = tok.eot_id();
    train::StopStrings stops(f.stops);
    std::fputs(f.prompt.c_str(), stdout);
    const auto t0 = std::chrono::steady_clock::now();
    MONE_ASSIGN_OR_RETURN(train::Generation g, train::generate(*model, prompt, o, [&](int32_t id) {
      if (id != tok.eot_id()) std::fputs(stops.feed(tok.decode(std::vector<int32_t>{id})).c_str(), stdout);
      std::fflush(stdout);
      return !stops.done();
    }));
    std::fputs(stops.finish().c_str(), stdout);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const char* why = stops.done()                         ? "a stop string"
                      : (!g.ids.empty() && g.ids.back() == tok.eot_id()) ? "<|endoftext|>"
                                                                          : "--max-tokens";
    std::fprintf(stderr, "[%zu tokens in %.2f s, %.1f tokens/s; ended by %s", g.ids.size(), seconds,
                 seconds > 0 ? static_cast<double>(g.ids.size()) / seconds : 0.0, why);
    if (g.context_slides > 0) {
      std::fprintf(stderr, "; the %lld-token context filled up %lld time(s), each time generation went on from its last half",
                   static_cast<long long>(model->spec().max_position_embeddings()),
                   static_cast<long long>(g.context_slides));
    }
    std::fprintf(stderr, "]\n");
    if (f.samples > 1) std::fputs("----\n", stdout);
  }
  return absl::OkStatus();
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto f = std::make_shared<GenerateFlags>();
  CLI::App* cmd = app.add_subcommand("generate", "Sample text from a checkpoint (KV cache; same seed, same text)");
  cmd->footer(
      "Prints the prompt and its continuation on stdout, and per sample a line on stderr: tokens,\n"
      "tokens/s and what ended it (<|endoftext|>, a stop string, --max-tokens). A full context\n"
      "slides: generation goes on from its last half. docs/GENERATE.md has the details. Example:\n"
      "  mone generate --checkpoint runs/tiny_mone --prompt \"The secret of\" --max-tokens 60 --seed 1");
  cmd->add_option("--checkpoint", f->checkpoint, "A checkpoint directory, or a run directory (its newest valid checkpoint)")
      ->required();
  cmd->add_option("--tokenizer", f->tokenizer,
                  "tokenizer.json (default: the one `mone train --tokenizer` kept in the run directory)");
  cmd->add_option("--prompt", f->prompt, "Text to continue (a document start is prepended)");
  cmd->add_option("--max-tokens", f->options.max_tokens, "Tokens to sample at most")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_option("--temperature", f->options.temperature, "Softmax temperature; 0 is greedy")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_option("--top-k", f->options.top_k, "Sample among the k most likely tokens (0: all)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_option("--top-p", f->options.top_p, "Nucleus sampling mass (1: off)")
      ->check(open_closed(0, 1))
      ->capture_default_str();
  cmd->add_option("--stop", f->stops, "Stop before this text (repeatable; the stop text is not printed)");
  cmd->add_option("--seed", f->options.seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--samples", f->samples, "How many samples (seeds seed, seed+1, ...)")
      ->check(at_least(1))
      ->capture_default_str();
  set_command_action(cmd, [f] { return run_generate(*f); });
}

}  // namespace mone::cli

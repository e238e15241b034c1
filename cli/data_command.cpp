// mone data prepare: tokenize text into llm.c-format train/val shards.
#include "cli/commands.h"
#include "train/prepare.h"
#include "train/tokenizer/tokenizer_files.h"

namespace mone::cli {

void add_data_command(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Prepare token shards");
  data->require_subcommand(1);
  struct Args {
    std::string tokenizer;
    train::PrepareOptions options;
  };
  auto args = std::make_shared<Args>();
  CLI::App* prepare = data->add_subcommand(
      "prepare", "Tokenize text files or directories into llm.c shards: OUT/train_*.bin and OUT/val_*.bin");
  prepare->footer(
      "Each document is <|endoftext|> then its tokens. Document i goes to validation when\n"
      "floor((i+1)·f) > floor(i·f); when f > 0 and no document lands there, the last document's\n"
      "last round(f·n) tokens do. docs/TRAINING.md. Example:\n"
      "  mone data prepare --tokenizer data/tokenizer.json --input /usr/share/games/fortunes --doc-separator % --out data/fortunes");
  prepare->add_option("--tokenizer", args->tokenizer, "tokenizer.json (or GPT-2's vocab.json: merges.txt beside it)")
      ->required();
  prepare->add_option("--input", args->options.inputs, "Text files or directories")->required();
  prepare->add_option("--out", args->options.out_dir, "Output directory (created)")->required();
  prepare->add_option("--val-fraction", args->options.val_fraction, "Fraction of documents for validation")
      ->check(in_range(0, 1, /*hi_open=*/true))
      ->capture_default_str();
  prepare->add_option("--doc-separator", args->options.doc_separator,
                      "A line that separates documents inside a file (e.g. %); default: one document per file");
  prepare->add_option("--shard-tokens", args->options.shard_tokens,
                      "Tokens per shard at most (documents continue in the next shard)")
      ->check(at_least(1))
      ->capture_default_str();
  set_command_action(prepare, [args]() -> Status {
    MONE_ASSIGN_OR_RETURN(train::Tokenizer t, train::load_tokenizer(args->tokenizer));
    MONE_ASSIGN_OR_RETURN(train::PrepareSummary s, train::prepare_data(t, args->options));
    std::cout << s.documents << " documents: " << s.train_tokens << " train tokens (" << s.train_documents
              << " docs), " << s.val_tokens << " val tokens (" << s.val_documents << " docs) in "
              << s.shards.size() << " shards under " << args->options.out_dir << "\n";
    if (s.split_document_tokens > 0) {
      std::cout << "note: no whole document fell into validation (--val-fraction " << args->options.val_fraction
                << " of " << s.documents << " documents), so the last document's last " << s.split_document_tokens
                << " tokens are the validation split\n";
    }
    return absl::OkStatus();
  });
}

}  // namespace mone::cli

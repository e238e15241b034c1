// mone tokenizer train: learn a byte-level BPE vocabulary from text and save tokenizer.json.
#include "cli/commands.h"
#include "core/file_io.h"
#include "train/prepare.h"
#include "train/tokenizer/bpe_trainer.h"

namespace mone::cli {

void add_tokenizer_command(CLI::App& app) {
  CLI::App* tok = app.add_subcommand("tokenizer", "Train byte-level BPE tokenizers");
  tok->require_subcommand(1);
  struct Args {
    std::vector<std::string> inputs;
    int vocab_size = 4096;
    std::string out = "tokenizer.json";
    std::string separator;
  };
  auto args = std::make_shared<Args>();
  CLI::App* train = tok->add_subcommand(
      "train", "Learn a GPT-2 style byte-level BPE from text files or directories; writes a Hugging Face tokenizer.json");
  train->footer(
      "The vocabulary holds the 256 bytes, <|endoftext|> and the merges; a small text can run out of\n"
      "pairs first, and the line printed at the end says the size reached. docs/TOKENIZER.md. Example:\n"
      "  mone tokenizer train --input /usr/share/games/fortunes --doc-separator % --vocab-size 1024 --out data/tokenizer.json");
  train->add_option("--input", args->inputs, "Text files or directories (read recursively)")->required();
  train->add_option("--vocab-size", args->vocab_size, "Vocabulary size including <|endoftext|>")
      ->check(at_least(257))
      ->capture_default_str();
  train->add_option("--out", args->out, "Where to write tokenizer.json (its folder is created)")->capture_default_str();
  train->add_option("--doc-separator", args->separator,
                    "A line that separates documents inside a file (e.g. % for fortune files); default: one document per file");
  set_command_action(train, [args]() -> Status {
    MONE_RETURN_IF_ERROR(prepare_output_file(args->out));
    MONE_ASSIGN_OR_RETURN(auto docs, train::read_documents(args->inputs, args->separator));
    MONE_ASSIGN_OR_RETURN(train::Tokenizer t, train::train_bpe(docs, args->vocab_size));
    MONE_RETURN_IF_ERROR(t.save(args->out));
    std::cout << "trained a " << t.vocab_size() << "-token vocabulary on " << docs.size() << " documents -> "
              << args->out << "\n";
    if (t.vocab_size() < args->vocab_size) {
      std::cout << "note: the text ran out of pairs to merge before " << args->vocab_size
                << " tokens; train the model with --vocab-size " << t.vocab_size() << " (or more)\n";
    }
    return absl::OkStatus();
  });
}

}  // namespace mone::cli

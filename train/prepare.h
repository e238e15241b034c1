// `mone data prepare`: text files -> documents -> token ids -> llm.c shards.
//
// Every document is written as <|endoftext|> followed by its tokens (llm.c's convention: the EOT
// token starts each document). Documents go to the validation split evenly spread through the
// corpus: document i is a validation document when floor((i+1)·f) > floor(i·f), f = val_fraction.
// When f > 0 but no document lands there (fewer than 1/f documents), the last document is split by
// tokens instead: its last round(f·n) tokens (at least 1) go to validation, the rest to training.
// Each shard holds at most shard_tokens tokens; a document that does not fit continues in the
// next shard (llm.c's writers do the same).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "train/tokenizer/tokenizer.h"

namespace mone::train {

// Splits `text` into documents at lines that equal `separator` exactly (e.g. "%" for fortune
// files); an empty separator makes the whole text one document. Empty documents are dropped.
std::vector<std::string> split_documents(const std::string& text, const std::string& separator);

struct PrepareOptions {
  std::vector<std::string> inputs;  // files and directories (read_text_inputs)
  std::string out_dir;
  double val_fraction = 0.05;
  std::string doc_separator;              // see split_documents
  int64_t shard_tokens = 100'000'000;     // tokens per shard at most
};

struct PrepareSummary {
  int64_t documents = 0, train_documents = 0, val_documents = 0;
  int64_t train_tokens = 0, val_tokens = 0;
  int64_t split_document_tokens = 0;  // > 0: the last document's tail (this many tokens) is the validation split
  std::vector<std::string> shards;  // paths written
};

// Writes <out_dir>/train_NNNNNN.bin and <out_dir>/val_NNNNNN.bin. Errors name the file.
StatusOr<PrepareSummary> prepare_data(const Tokenizer& tokenizer, const PrepareOptions& options);

// Reads every input and splits it into documents (the unit for tokenizer training too).
StatusOr<std::vector<std::string>> read_documents(const std::vector<std::string>& inputs, const std::string& separator);

}  // namespace mone::train

#include "train/prepare.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <filesystem>

#include "core/file_io.h"
#include "train/data/shard.h"
#include "absl/strings/str_join.h"
#include "train/tokenizer/text_inputs.h"

namespace mone::train {

std::vector<std::string> split_documents(const std::string& text, const std::string& separator) {
  std::vector<std::string> docs;
  if (separator.empty()) {
    if (!text.empty()) docs.push_back(text);
    return docs;
  }
  std::string current;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const size_t line_end = end == std::string::npos ? text.size() : end;
    const std::string_view line(text.data() + pos, line_end - pos);
    if (line == separator) {
      if (!current.empty()) docs.push_back(std::move(current));
      current.clear();
    } else {
      current.append(text, pos, (end == std::string::npos ? text.size() : end + 1) - pos);
    }
    pos = end == std::string::npos ? text.size() : end + 1;
  }
  if (!current.empty()) docs.push_back(std::move(current));
  return docs;
}

StatusOr<std::vector<std::string>> read_documents(const std::vector<std::string>& inputs, const std::string& separator) {
  MONE_ASSIGN_OR_RETURN(std::vector<std::string> texts, read_text_inputs(inputs));
  std::vector<std::string> docs;
  for (const auto& t : texts) {
    for (auto& d : split_documents(t, separator)) docs.push_back(std::move(d));
  }
  if (docs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no text found in ", absl::StrJoin(inputs, ", ")));
  }
  return docs;
}

namespace {

// Accumulates one split's tokens and writes a shard whenever it is full.
class ShardWriter {
 public:
  ShardWriter(std::string dir, std::string split, int64_t shard_tokens, int64_t vocab, PrepareSummary* summary)
      : dir_(std::move(dir)), split_(std::move(split)), limit_(shard_tokens), vocab_(vocab), summary_(summary) {}

  // Appends tokens; every time limit_ tokens are pending, they become a shard (a document may
  // continue in the next shard, as llm.c's writers do).
  Status add(std::span<const int32_t> tokens) {
    for (int32_t t : tokens) {
      tokens_.push_back(static_cast<uint32_t>(t));
      if (static_cast<int64_t>(tokens_.size()) == limit_) MONE_RETURN_IF_ERROR(flush());
    }
    return absl::OkStatus();
  }
  Status flush() {
    if (tokens_.empty()) return absl::OkStatus();
    const std::string path = absl::StrFormat("%s/%s_%06d.bin", dir_, split_, index_++);
    MONE_RETURN_IF_ERROR(write_shard(path, tokens_, vocab_));
    summary_->shards.push_back(path);
    tokens_.clear();
    return absl::OkStatus();
  }

 private:
  std::string dir_, split_;
  int64_t limit_, vocab_;
  PrepareSummary* summary_;
  int index_ = 0;
  std::vector<uint32_t> tokens_;
};

}  // namespace

StatusOr<PrepareSummary> prepare_data(const Tokenizer& tokenizer, const PrepareOptions& options) {
  if (!tokenizer.has_eot()) {
    return absl::InvalidArgumentError("the tokenizer has no <|endoftext|> token to separate documents");
  }
  if (!(options.val_fraction >= 0.0 && options.val_fraction < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("--val-fraction ", options.val_fraction,
                                                   " must lie in [0, 1)"));
  }
  if (options.shard_tokens < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--shard-tokens ", options.shard_tokens, " must be >= 1"));
  }
  MONE_RETURN_IF_ERROR(make_directories(options.out_dir));
  MONE_ASSIGN_OR_RETURN(std::vector<std::string> docs, read_documents(options.inputs, options.doc_separator));

  PrepareSummary summary;
  ShardWriter train(options.out_dir, "train", options.shard_tokens, tokenizer.vocab_size(), &summary);
  ShardWriter val(options.out_dir, "val", options.shard_tokens, tokenizer.vocab_size(), &summary);
  const double f = options.val_fraction;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::vector<int32_t> ids = {tokenizer.eot_id()};
    for (int32_t t : tokenizer.encode(docs[i])) ids.push_back(t);
    const bool is_val = std::floor((i + 1) * f) > std::floor(i * f);
    const int64_t n = static_cast<int64_t>(ids.size());
    if (f > 0 && !is_val && i + 1 == docs.size() && summary.val_documents == 0) {
      // Validation was asked for but no document landed there: its tail goes to validation.
      if (n < 3) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--val-fraction ", f, ": no document fell into validation and the last one is too short to split (",
            n - 1, " tokens); give more text or --val-fraction 0"));
      }
      const int64_t tail = std::clamp<int64_t>(std::llround(f * static_cast<double>(n)), 1, n - 2);
      MONE_RETURN_IF_ERROR(train.add(std::span<const int32_t>(ids).first(n - tail)));
      MONE_RETURN_IF_ERROR(val.add(std::span<const int32_t>(ids).last(tail)));
      summary.train_tokens += n - tail;
      summary.val_tokens += tail;
      ++summary.train_documents;
      summary.split_document_tokens = tail;
      continue;
    }
    MONE_RETURN_IF_ERROR((is_val ? val : train).add(ids));
    (is_val ? summary.val_tokens : summary.train_tokens) += n;
    ++(is_val ? summary.val_documents : summary.train_documents);
  }
  summary.documents = static_cast<int64_t>(docs.size());
  MONE_RETURN_IF_ERROR(train.flush());
  MONE_RETURN_IF_ERROR(val.flush());
  return summary;
}

}  // namespace mone::train

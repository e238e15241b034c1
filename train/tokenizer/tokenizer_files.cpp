#include "core/file_io.h"
#include "train/tokenizer/tokenizer_files.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <unordered_map>

#include "train/tokenizer/byte_level.h"
#include "train/tokenizer/text_inputs.h"

namespace mone::train {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

Status file_error(const std::string& file, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ": ", what));
}

// A value from a file, shortened for an error message.
constexpr size_t kShownChars = 80;
std::string shown(std::string_view s) {
  return "\"" + std::string(s.substr(0, kShownChars)) + (s.size() > kShownChars ? "...\"" : "\"");
}
// A JSON value as written (strings keep their quotes), shortened.
std::string shown_json(const json& j) {
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() <= kShownChars ? text : text.substr(0, kShownChars) + "...";
}

StatusOr<std::string> read_nonempty(const std::string& path) {
  MONE_ASSIGN_OR_RETURN(std::string bytes, read_file_to_string(path));
  if (bytes.find_first_not_of(" \t\r\n") == std::string::npos) return file_error(path, "file is empty");
  return bytes;
}

StatusOr<json> read_json(const std::string& path) {
  MONE_ASSIGN_OR_RETURN(std::string text, read_nonempty(path));
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line 1, ..."
    if (size_t cut = what.find("] "); cut != std::string::npos) what = what.substr(cut + 2);
    return file_error(path, absl::StrCat("invalid JSON: ", what));
  }
}

// A vocabulary as a file spells it (token spelling -> id, plus special tokens by text), checked
// and turned into TokenizerParts: ids must be exactly 0..n-1, each used once.
class VocabBuilder {
 public:
  explicit VocabBuilder(std::string file) : file_(std::move(file)) {}

  Status add_spelled(const std::string& spelling, const json& id) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      return file_error(file_, absl::StrCat("token ", shown(spelling), " has id ", shown_json(id),
                                            ", expected a non-negative integer"));
    }
    index_of_.emplace(spelling, entries_.size());
    entries_.push_back({spelling, id.get<int64_t>(), false});
    return absl::OkStatus();
  }

  // A special token: the same id as its vocab entry if it has one, else a new entry.
  Status add_special(const std::string& text, const json& id) {
    auto it = index_of_.find(text);
    if (it == index_of_.end()) {
      MONE_RETURN_IF_ERROR(add_spelled(text, id));
      it = index_of_.find(text);
    } else if (!id.is_number_integer() || id.get<int64_t>() != entries_[it->second].id) {
      return file_error(file_, absl::StrCat("special token ", shown(text), " has id ", shown_json(id),
                                            " but the vocab gives it id ", entries_[it->second].id));
    }
    entries_[it->second].special = true;
    return absl::OkStatus();
  }

  bool has(const std::string& spelling) const { return index_of_.count(spelling) > 0; }

  // The id of a merge's side, or an error naming the merges file and the merge (`where`).
  StatusOr<int32_t> merge_side(const std::string& spelling, const std::string& merges_file,
                               const std::string& where) const {
    auto it = index_of_.find(spelling);
    if (it == index_of_.end()) return file_error(merges_file, absl::StrCat(where, ": unknown token ", shown(spelling)));
    return static_cast<int32_t>(entries_[it->second].id);
  }

  // Tokens by id and the special ids, into `parts`.
  Status finish(TokenizerParts& parts) const {
    const int64_t n = static_cast<int64_t>(entries_.size());
    std::vector<int64_t> entry_of_id(n, -1);
    for (int64_t e = 0; e < n; ++e) {
      const Entry& entry = entries_[e];
      if (entry.id >= n) {
        return file_error(file_, absl::StrCat("token ids must run 0..", n - 1, " without gaps, but token ",
                                              shown(entry.spelling), " has id ", entry.id));
      }
      if (entry_of_id[entry.id] >= 0) {
        return file_error(file_, absl::StrCat("id ", entry.id, " is given to two tokens, ",
                                              shown(entries_[entry_of_id[entry.id]].spelling), " and ",
                                              shown(entry.spelling)));
      }
      entry_of_id[entry.id] = e;
    }
    parts.tokens.assign(n, "");
    parts.special_ids.clear();
    for (int64_t id = 0; id < n; ++id) {  // every id is taken: n entries, distinct ids below n
      const Entry& entry = entries_[entry_of_id[id]];
      if (entry.special) {
        parts.tokens[id] = entry.spelling;
        parts.special_ids.push_back(static_cast<int32_t>(id));
        continue;
      }
      std::optional<std::string> bytes = byte_level_to_bytes(entry.spelling);
      if (!bytes) {
        return file_error(file_, absl::StrCat("token ", shown(entry.spelling), " (id ", id,
                                              ") is not spelled in GPT-2's byte-level alphabet"));
      }
      parts.tokens[id] = std::move(*bytes);
    }
    return absl::OkStatus();
  }

 private:
  struct Entry {
    std::string spelling;
    int64_t id;
    bool special;
  };
  std::string file_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_of_;
};

// "left right" -> the two spellings; false when it is not exactly two non-empty halves.
bool split_merge(std::string_view line, std::string& left, std::string& right) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
      line.find(' ', space + 1) != std::string_view::npos) {
    return false;
  }
  left = line.substr(0, space);
  right = line.substr(space + 1);
  return true;
}

Status check_byte_level(const std::string& file, const json& byte_level) {
  if (byte_level.value("add_prefix_space", false)) {
    return file_error(file, "pre_tokenizer ByteLevel with add_prefix_space=true is not supported "
                            "(it changes the text; mone's encode/decode are exact inverses)");
  }
  return absl::OkStatus();
}

// The split regex that a tokenizer.json's pre_tokenizer stands for.
StatusOr<std::string> split_pattern_of(const std::string& file, const json& pre) {
  const std::string type = pre.is_object() ? pre.value("type", "") : "";
  if (type == "ByteLevel") {
    MONE_RETURN_IF_ERROR(check_byte_level(file, pre));
    if (!pre.value("use_regex", true)) {
      return file_error(file, "pre_tokenizer ByteLevel with use_regex=false needs a Split before it");
    }
    return std::string(kGpt2SplitPattern);
  }
  if (type == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array() &&
      pre["pretokenizers"].size() == 2) {
    const json& split = pre["pretokenizers"][0];
    const json& byte_level = pre["pretokenizers"][1];
    bool ok = split.is_object() && split.value("type", "") == "Split" && split.contains("pattern") &&
              split["pattern"].is_object() && split["pattern"].contains("Regex") &&
              split["pattern"]["Regex"].is_string() && split.value("behavior", "") == "Isolated" &&
              !split.value("invert", false) && byte_level.is_object() &&
              byte_level.value("type", "") == "ByteLevel" && !byte_level.value("use_regex", true);
    if (ok) {
      MONE_RETURN_IF_ERROR(check_byte_level(file, byte_level));
      return split["pattern"]["Regex"].get<std::string>();
    }
  }
  return file_error(file, absl::StrCat("pre_tokenizer ", shown_json(pre), " is not supported: mone needs ByteLevel, or a "
                                       "Sequence of Split (Regex, Isolated) and ByteLevel (use_regex=false)"));
}

// The model section's options that mone does not implement must be off.
Status check_model_options(const std::string& file, const json& model) {
  if (model.contains("type") && model["type"] != "BPE") {
    return file_error(file, absl::StrCat("model.type is ", shown_json(model["type"]), ", expected \"BPE\""));
  }
  if (model.value("byte_fallback", false)) return file_error(file, "model.byte_fallback=true is not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && model[key] != "") {
      return file_error(file, absl::StrCat("model.", key, "=", shown_json(model[key]), " is not supported"));
    }
  }
  if (!model.contains("vocab") || !model["vocab"].is_object()) return file_error(file, "model.vocab is missing or not an object");
  if (!model.contains("merges") || !model["merges"].is_array()) return file_error(file, "model.merges is missing or not an array");
  return absl::OkStatus();
}

StatusOr<Tokenizer> create_for(const std::string& file, TokenizerParts parts) {
  StatusOr<Tokenizer> t = Tokenizer::create(std::move(parts));
  if (!t.ok()) return Status(t.status().code(), absl::StrCat(file, ": ", t.status().message()));
  return t;
}

StatusOr<Tokenizer> parse_tokenizer_json(const std::string& path, const json& root) {
  if (!root.is_object()) return file_error(path, "expected a JSON object at the top level");
  if (!root.contains("model") || !root["model"].is_object()) return file_error(path, "no \"model\" object");
  const json& model = root["model"];
  MONE_RETURN_IF_ERROR(check_model_options(path, model));
  if (root.contains("normalizer") && !root["normalizer"].is_null()) {
    return file_error(path, absl::StrCat("normalizer ", shown_json(root["normalizer"]), " is not supported"));
  }
  TokenizerParts parts;
  MONE_ASSIGN_OR_RETURN(parts.split_pattern, split_pattern_of(path, root.value("pre_tokenizer", json())));
  parts.ignore_merges = model.value("ignore_merges", false);

  VocabBuilder vocab(path);
  for (const auto& [spelling, id] : model["vocab"].items()) MONE_RETURN_IF_ERROR(vocab.add_spelled(spelling, id));
  const json added = root.value("added_tokens", json::array());
  if (!added.is_array()) return file_error(path, "added_tokens is not an array");
  for (const json& token : added) {
    if (!token.is_object() || !token.contains("content") || !token["content"].is_string() || !token.contains("id")) {
      return file_error(path, absl::StrCat("added token ", shown_json(token), " needs \"id\" and \"content\""));
    }
    MONE_RETURN_IF_ERROR(vocab.add_special(token["content"].get<std::string>(), token["id"]));
  }
  MONE_RETURN_IF_ERROR(vocab.finish(parts));

  const json& merges = model["merges"];
  std::string left, right;
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    std::string where = absl::StrCat("model.merges[", i, "]");
    bool ok = m.is_string() ? split_merge(m.get<std::string>(), left, right)
                            : m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string();
    if (!ok) {
      return file_error(path, absl::StrCat(where, " is ", shown_json(m), ", expected \"left right\" or [\"left\", \"right\"]"));
    }
    if (m.is_array()) left = m[0].get<std::string>(), right = m[1].get<std::string>();
    MONE_ASSIGN_OR_RETURN(int32_t a, vocab.merge_side(left, path, where));
    MONE_ASSIGN_OR_RETURN(int32_t b, vocab.merge_side(right, path, where));
    parts.merges.emplace_back(a, b);
  }
  return create_for(path, std::move(parts));
}

}  // namespace

StatusOr<Tokenizer> load_tokenizer_json(const std::string& path) {
  MONE_ASSIGN_OR_RETURN(json root, read_json(path));
  try {  // the checks above every access make this a safety net, not the plan
    return parse_tokenizer_json(path, root);
  } catch (const json::exception& e) {
    return file_error(path, absl::StrCat("unexpected content: ", e.what()));
  }
}

StatusOr<Tokenizer> load_gpt2_files(const std::string& vocab_json, const std::string& merges_txt) {
  MONE_ASSIGN_OR_RETURN(json root, read_json(vocab_json));
  if (!root.is_object()) return file_error(vocab_json, "expected a JSON object {token: id}");
  VocabBuilder vocab(vocab_json);
  for (const auto& [spelling, id] : root.items()) MONE_RETURN_IF_ERROR(vocab.add_spelled(spelling, id));
  if (vocab.has(std::string(kEndOfText))) MONE_RETURN_IF_ERROR(vocab.add_special(std::string(kEndOfText), root[std::string(kEndOfText)]));
  TokenizerParts parts;
  MONE_RETURN_IF_ERROR(vocab.finish(parts));

  MONE_ASSIGN_OR_RETURN(std::string text, read_nonempty(merges_txt));
  std::string_view rest = text;
  std::string left, right;
  for (int line_no = 1; !rest.empty(); ++line_no) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    std::string where = absl::StrCat("line ", line_no);
    if (!split_merge(line, left, right)) {
      return file_error(merges_txt, absl::StrCat(where, " is ", shown(line), ", expected two tokens separated by one space"));
    }
    MONE_ASSIGN_OR_RETURN(int32_t a, vocab.merge_side(left, merges_txt, where));
    MONE_ASSIGN_OR_RETURN(int32_t b, vocab.merge_side(right, merges_txt, where));
    parts.merges.emplace_back(a, b);
  }
  // A merge that Tokenizer::create rejects (its result is not a token) is the merges file's fault.
  return create_for(merges_txt, std::move(parts));
}

StatusOr<Tokenizer> load_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return load_tokenizer_json(path);
  const fs::path dir(path);
  if (fs::exists(dir / "tokenizer.json", ec)) return load_tokenizer_json((dir / "tokenizer.json").string());
  if (fs::exists(dir / "vocab.json", ec) && fs::exists(dir / "merges.txt", ec)) {
    return load_gpt2_files((dir / "vocab.json").string(), (dir / "merges.txt").string());
  }
  return absl::NotFoundError(absl::StrCat(path, ": no tokenizer.json, nor vocab.json + merges.txt, in this directory"));
}

Status Tokenizer::save(const std::string& path) const {
  // The vocab in id order; ordered_map's own insert is a linear search, so append directly
  // and check uniqueness with a hash set.
  ordered_json vocab = ordered_json::object();
  auto& entries = vocab.get_ref<ordered_json::object_t&>();
  std::unordered_map<std::string, int32_t> seen;
  ordered_json added = ordered_json::array();
  for (int32_t id = 0; id < vocab_size(); ++id) {
    std::string spelling = is_special_[id] ? parts_.tokens[id] : bytes_to_byte_level(parts_.tokens[id]);
    auto [it, inserted] = seen.emplace(spelling, id);
    if (!inserted) {
      return file_error(path, absl::StrCat("cannot save: tokens ", it->second, " and ", id, " are both spelled ", shown(spelling)));
    }
    entries.emplace_back(spelling, id);
    if (is_special_[id]) {
      added.push_back({{"id", id}, {"content", spelling}, {"single_word", false}, {"lstrip", false},
                       {"rstrip", false}, {"normalized", false}, {"special", true}});
    }
  }
  ordered_json merges = ordered_json::array();
  for (auto [a, b] : parts_.merges) {
    merges.push_back(absl::StrCat(bytes_to_byte_level(parts_.tokens[a]), " ", bytes_to_byte_level(parts_.tokens[b])));
  }
  const bool gpt2_regex = parts_.split_pattern == kGpt2SplitPattern;
  ordered_json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                             {"use_regex", gpt2_regex}};
  ordered_json pre_tokenizer = byte_level;
  if (!gpt2_regex) {
    ordered_json split = {{"type", "Split"}, {"pattern", {{"Regex", parts_.split_pattern}}},
                          {"behavior", "Isolated"}, {"invert", false}};
    pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", {split, byte_level}}};
  }
  ordered_json root = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre_tokenizer},
      {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
        {"ignore_merges", parts_.ignore_merges}, {"vocab", std::move(vocab)}, {"merges", std::move(merges)}}}};
  std::string text;
  try {
    text = root.dump(2) + "\n";
  } catch (const ordered_json::exception& e) {  // a special token's text that is not UTF-8
    return file_error(path, absl::StrCat("cannot save: ", e.what()));
  }
  return write_string_atomic(path, text);
}

}  // namespace mone::train

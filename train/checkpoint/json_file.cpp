#include "train/checkpoint/json_file.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/file_io.h"

namespace mone::train {
namespace {

// Deeper nesting than this is refused: no file of ours needs it, and it bounds the work.
constexpr size_t kMaxJsonDepth = 512;

// Bytes outside printable ASCII as \xNN, the rest as they are.
std::string escape_bytes(absl::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f) {
      out += c;
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(b, absl::kZeroPad2));
    }
  }
  return out;
}

// A SAX consumer that builds nothing: it only watches for duplicate keys, excessive depth and the
// parser's first syntax error. Returning false from any callback stops the parse.
class JsonChecker : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit JsonChecker(std::vector<std::string>* top_level_keys)
      : top_level_keys_(top_level_keys) {}
  std::string error;  // empty while the text is fine

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return push(/*is_object=*/true); }
  bool end_object() override { return pop(); }
  bool start_array(std::size_t) override { return push(/*is_object=*/false); }
  bool end_array() override { return pop(); }

  bool key(string_t& name) override {
    Level& level = levels_.back();
    if (!level.keys.insert(name).second) {
      error = absl::StrCat("duplicate key \"", name, "\" in the object at ", where());
      return false;
    }
    level.last_key = name;
    if (levels_.size() == 1 && top_level_keys_ != nullptr) top_level_keys_->push_back(name);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // ex.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ...".
    absl::string_view what = ex.what();
    size_t bracket = what.find("] ");
    if (bracket != absl::string_view::npos) what.remove_prefix(bracket + 2);
    // It quotes the bytes last read, which may be anything: escaped, so that the message stays
    // printable and valid UTF-8 (`mone runs --json` writes such messages into JSON).
    error = absl::StrCat("invalid JSON at byte ", position, ": ", escape_bytes(what));
    return false;
  }

 private:
  struct Level {
    bool is_object;
    std::set<std::string> keys;
    std::string last_key;
  };

  bool push(bool is_object) {
    if (levels_.size() >= kMaxJsonDepth) {
      error = absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels at ", where());
      return false;
    }
    levels_.push_back({is_object, {}, {}});
    return true;
  }
  bool pop() {
    levels_.pop_back();
    return true;
  }
  // "/tensor/shape": the keys leading to the current object ([] for arrays).
  std::string where() const {
    std::vector<std::string> parts;
    for (size_t i = 0; i + 1 < levels_.size(); ++i) {
      parts.push_back(levels_[i].is_object ? levels_[i].last_key : "[]");
    }
    return absl::StrCat("/", absl::StrJoin(parts, "/"));
  }

  std::vector<Level> levels_;
  std::vector<std::string>* top_level_keys_;
};

template <typename Json>
StatusOr<std::string> dump_checked(const Json& value, int indent, const std::string& what) {
  try {  // nlohmann reports invalid UTF-8 only by exception; it stops here
    return value.dump(indent);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": cannot write JSON: ", e.what()));
  }
}

}  // namespace

Status check_json_text(std::string_view text, const std::string& source,
                       std::vector<std::string>* top_level_keys) {
  JsonChecker checker(top_level_keys);
  if (nlohmann::json::sax_parse(text, &checker)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", checker.error));
}

StatusOr<nlohmann::json> parse_json_text(std::string_view text, const std::string& source,
                                         std::vector<std::string>* top_level_keys) {
  MONE_RETURN_IF_ERROR(check_json_text(text, source, top_level_keys));
  nlohmann::json value = nlohmann::json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  MONE_CHECK(!value.is_discarded()) << "JSON accepted by the SAX check failed to parse: " << source;
  return value;
}

StatusOr<std::string> dump_json(const nlohmann::json& value, int indent, const std::string& what) {
  return dump_checked(value, indent, what);
}

StatusOr<std::string> dump_json(const nlohmann::ordered_json& value, int indent,
                                const std::string& what) {
  return dump_checked(value, indent, what);
}

Status write_json_file_atomic(const std::string& path, const nlohmann::json& value) {
  MONE_ASSIGN_OR_RETURN(std::string text, dump_json(value, 2, path));
  text += '\n';
  return write_string_atomic(path, text);
}

StatusOr<nlohmann::json> read_json_file(const std::string& path) {
  MONE_ASSIGN_OR_RETURN(std::string text, read_file_to_string(path));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": file is empty (expected JSON)"));
  }
  return parse_json_text(text, path);
}

}  // namespace mone::train

// Strict JSON parsing and small JSON files.
//
// nlohmann::json accepts duplicate object keys silently (the last one wins) and reports syntax
// errors by exception. parse_json_text() instead runs one SAX pass that rejects duplicate keys and
// records the byte position of a syntax error, so every failure is a Status that names the source
// and the place; only then is the DOM built (which cannot fail any more).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mone::train {

// Syntax (incl. UTF-8 inside strings), duplicate keys and nesting depth; `source` (usually a
// file path) prefixes every message: "<source>: invalid JSON at byte 12: ...". When given,
// *top_level_keys receives the keys of a top-level object in the order they appear (nlohmann::json
// sorts them; ordered_json keeps the order but inserts in linear time, quadratic over a file).
Status check_json_text(std::string_view text, const std::string& source,
                       std::vector<std::string>* top_level_keys = nullptr);
StatusOr<nlohmann::json> parse_json_text(std::string_view text, const std::string& source,
                                         std::vector<std::string>* top_level_keys = nullptr);

// Serialises without exceptions: strings that are not valid UTF-8 become an error naming `what`.
// indent < 0 gives the compact form.
StatusOr<std::string> dump_json(const nlohmann::json& value, int indent, const std::string& what);
StatusOr<std::string> dump_json(const nlohmann::ordered_json& value, int indent,
                                const std::string& what);

// Writes value (2-space indent, trailing newline) with write_file_atomic.
Status write_json_file_atomic(const std::string& path, const nlohmann::json& value);
// Errors name the file and say whether it is missing, empty, or invalid JSON (with byte position).
StatusOr<nlohmann::json> read_json_file(const std::string& path);

}  // namespace mone::train

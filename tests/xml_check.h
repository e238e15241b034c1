// A minimal XML reader for the tests of the SVG charts and the HTML report: it checks that a
// document is well-formed (XML 1.0's rules that matter for our output: one root element, tags
// that nest and match, quoted attributes that appear once per element, no raw '<' or stray '&'
// in text or values, only the five named entities and numeric character references) and returns
// its element tree, so a test can find the data-* attributes the charts write.
// An XML declaration, a <!DOCTYPE ...> and comments are accepted and skipped. No DTDs, CDATA or
// namespaces-aware processing: the charts and the report use none of them.
//
// Why not libxml2: the whole check is this file; a library would add a dependency to every CI
// machine for the tests alone, and its error messages would not be ours.
#pragma once

#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mone_testing {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;  // values with entities decoded
  std::vector<XmlElement> children;
  std::string text;  // the element's own character data, decoded

  std::string attr(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  }
  // Every element below (and including) this one that satisfies pred, in document order.
  void find_all(const std::function<bool(const XmlElement&)>& pred, std::vector<const XmlElement*>& out) const {
    if (pred(*this)) out.push_back(this);
    for (const XmlElement& c : children) c.find_all(pred, out);
  }
  std::vector<const XmlElement*> with_class(const std::string& cls) const {
    std::vector<const XmlElement*> out;
    find_all([&](const XmlElement& e) { return e.attr("class") == cls; }, out);
    return out;
  }
};

struct XmlResult {
  bool ok = false;
  std::string error;  // "offset N: what" when not ok
  XmlElement root;
};

class XmlReader {
 public:
  explicit XmlReader(const std::string& text) : s_(text) {}

  XmlResult read() {
    XmlResult r;
    skip_misc(true);
    if (!failed() && !at("<")) fail("expected the root element");
    if (!failed()) r.root = element();
    if (!failed()) skip_misc(false);
    if (!failed() && i_ < s_.size()) fail("content after the root element");
    r.ok = !failed();
    r.error = error_;
    return r;
  }

 private:
  bool failed() const { return !error_.empty(); }
  void fail(const std::string& what) {
    if (error_.empty()) error_ = "offset " + std::to_string(i_) + ": " + what;
  }
  bool at(const char* p) const { return s_.compare(i_, std::char_traits<char>::length(p), p) == 0; }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  // Whitespace, comments, and (before the root) the declaration and a DOCTYPE.
  void skip_misc(bool prolog) {
    while (!failed()) {
      skip_space();
      if (at("<!--")) {
        skip_past("-->");
      } else if (prolog && at("<?")) {
        skip_past("?>");
      } else if (prolog && at("<!DOCTYPE")) {
        skip_past(">");
      } else {
        return;
      }
    }
  }
  void skip_past(const char* end) {
    const size_t at_end = s_.find(end, i_);
    if (at_end == std::string::npos) return fail(std::string("unterminated, expected ") + end);
    i_ = at_end + std::char_traits<char>::length(end);
  }
  static bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
  static bool name_char(char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  }
  std::string name() {
    const size_t b = i_;
    if (i_ >= s_.size() || !name_start(s_[i_])) {
      fail("expected a name");
      return "";
    }
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    return s_.substr(b, i_ - b);
  }
  // Character data up to (not including) `stop`, entities decoded; '<' is an error inside values.
  std::string chars(char stop) {
    std::string out;
    while (i_ < s_.size() && s_[i_] != stop) {
      const char c = s_[i_];
      if (c == '<') {
        fail("raw '<' in an attribute value");
        return out;
      }
      if (c == '&') {
        out += entity();
        if (failed()) return out;
        continue;
      }
      out += c;
      ++i_;
    }
    return out;
  }
  std::string entity() {
    const size_t semi = s_.find(';', i_);
    if (semi == std::string::npos || semi - i_ > 10) {
      fail("stray '&'");
      return "";
    }
    const std::string e = s_.substr(i_ + 1, semi - i_ - 1);
    i_ = semi + 1;
    static const std::map<std::string, std::string> named = {
        {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
    if (auto it = named.find(e); it != named.end()) return it->second;
    if (e.size() > 1 && e[0] == '#') {
      const bool hex = e[1] == 'x';
      const std::string digits = e.substr(hex ? 2 : 1);
      if (!digits.empty() && digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") ==
                                 std::string::npos) {
        return "?";  // a character reference; its code point does not matter here
      }
    }
    fail("unknown entity &" + e + ";");
    return "";
  }
  XmlElement element() {
    XmlElement e;
    ++i_;  // '<'
    e.name = name();
    while (!failed()) {
      const size_t before = i_;
      skip_space();
      if (at("/>")) {
        i_ += 2;
        return e;
      }
      if (at(">")) {
        ++i_;
        break;
      }
      if (i_ == before) return fail("expected whitespace before an attribute"), e;
      const std::string key = name();
      skip_space();
      if (!at("=")) return fail("attribute " + key + " has no '='"), e;
      ++i_;
      skip_space();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return fail("attribute " + key + " is not quoted"), e;
      const char quote = s_[i_++];
      std::string value = chars(quote);
      if (failed()) return e;
      if (i_ >= s_.size()) return fail("unterminated value of " + key), e;
      ++i_;
      if (!e.attributes.emplace(key, value).second) return fail("attribute " + key + " appears twice"), e;
    }
    // Content: text, comments and children, until the matching end tag.
    while (!failed()) {
      if (i_ >= s_.size()) return fail("element <" + e.name + "> is not closed"), e;
      if (at("<!--")) {
        skip_past("-->");
      } else if (at("</")) {
        i_ += 2;
        const std::string end = name();
        skip_space();
        if (end != e.name) return fail("</" + end + "> closes <" + e.name + ">"), e;
        if (!at(">")) return fail("expected '>' after </" + end), e;
        ++i_;
        return e;
      } else if (at("<")) {
        e.children.push_back(element());
      } else if (s_[i_] == '&') {
        e.text += entity();
      } else {
        e.text += s_[i_++];
      }
    }
    return e;
  }

  const std::string& s_;
  size_t i_ = 0;
  std::string error_;
};

inline XmlResult read_xml(const std::string& text) { return XmlReader(text).read(); }

// The numbers of a data-* attribute (space-separated %.9g values).
inline std::vector<double> numbers_of(const std::string& list) {
  std::vector<double> out;
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && list[i] == ' ') ++i;
    if (i >= list.size()) break;
    size_t used = 0;
    out.push_back(std::stod(list.substr(i), &used));
    i += used;
  }
  return out;
}

}  // namespace mone_testing

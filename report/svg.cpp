#include "report/svg.h"

#include <cmath>
#include <cstdio>

#include "core/status.h"

namespace mone::report {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string coord(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  return s == "-0.00" ? "0.00" : s;
}

std::string data_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string data_list(const std::vector<double>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ' ';
    out += data_number(values[i]);
  }
  return out;
}

Svg::Svg(double width, double height) : width_(width), height_(height) {}

void Svg::add(std::string_view tag, const Attributes& attrs, std::string_view content, bool leaf) {
  body_ += '<';
  body_ += tag;
  for (const auto& [name, value] : attrs) body_ += absl::StrCat(" ", name, "=\"", xml_escape(value), "\"");
  if (!leaf) {
    body_ += ">\n";
  } else if (content.empty()) {
    body_ += "/>\n";
  } else {
    body_ += absl::StrCat(">", xml_escape(content), "</", std::string(tag), ">\n");
  }
}

void Svg::rect(double x, double y, double w, double h, const Attributes& attrs) {
  Attributes a = {{"x", coord(x)}, {"y", coord(y)}, {"width", coord(w)}, {"height", coord(h)}};
  a.insert(a.end(), attrs.begin(), attrs.end());
  add("rect", a);
}

void Svg::line(double x1, double y1, double x2, double y2, const Attributes& attrs) {
  Attributes a = {{"x1", coord(x1)}, {"y1", coord(y1)}, {"x2", coord(x2)}, {"y2", coord(y2)}};
  a.insert(a.end(), attrs.begin(), attrs.end());
  add("line", a);
}

void Svg::polyline(const std::vector<std::pair<double, double>>& points, const Attributes& attrs) {
  std::string p;
  for (const auto& [x, y] : points) absl::StrAppend(&p, p.empty() ? "" : " ", coord(x), ",", coord(y));
  Attributes a = {{"points", p}, {"fill", "none"}};
  a.insert(a.end(), attrs.begin(), attrs.end());
  add("polyline", a);
}

void Svg::circle(double cx, double cy, double r, const Attributes& attrs) {
  Attributes a = {{"cx", coord(cx)}, {"cy", coord(cy)}, {"r", coord(r)}};
  a.insert(a.end(), attrs.begin(), attrs.end());
  add("circle", a);
}

void Svg::text(double x, double y, std::string_view content, const Attributes& attrs) {
  Attributes a = {{"x", coord(x)}, {"y", coord(y)}};
  a.insert(a.end(), attrs.begin(), attrs.end());
  if (content.empty()) content = " ";
  add("text", a, content);
}

void Svg::open_group(const Attributes& attrs) {
  add("g", attrs, {}, false);
  ++open_groups_;
}

void Svg::close_group() {
  MONE_CHECK(open_groups_ > 0) << "Svg::close_group without an open group";
  body_ += "</g>\n";
  --open_groups_;
}

std::string Svg::element() const {
  MONE_CHECK(open_groups_ == 0) << "an SVG with " << open_groups_ << " unclosed groups";
  return absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", coord(width_), "\" height=\"",
                      coord(height_), "\" viewBox=\"0 0 ", coord(width_), " ", coord(height_),
                      "\" font-family=\"sans-serif\" font-size=\"12\">\n", body_, "</svg>\n");
}

std::string Svg::document() const { return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element(); }

}  // namespace mone::report

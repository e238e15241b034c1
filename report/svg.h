// A small SVG writer: shapes and text with their attributes, text and attribute values escaped,
// numbers written with a fixed precision. Charts (report/charts.h) are built on it; nothing here
// knows what is plotted.
//
//   Svg svg(640, 400);
//   svg.rect(10, 10, 100, 50, {{"fill", "#4c78a8"}});
//   svg.text(60, 80, "a < b", {{"text-anchor", "middle"}});
//   std::string file = svg.document();  // with the XML declaration: a standalone .svg file
//   std::string inline_svg = svg.element();  // the <svg> element alone: for an HTML page
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mone::report {

using Attributes = std::vector<std::pair<std::string, std::string>>;

// & < > " ' as XML entities (valid in text and in double-quoted attribute values).
std::string xml_escape(std::string_view text);

// A number for coordinates (2 decimals, no "-0.00") or for data (%.9g: enough to read an f32 back).
std::string coord(double v);
std::string data_number(double v);
// Numbers separated by spaces, with data_number: the data-* attributes tests read back.
std::string data_list(const std::vector<double>& values);

class Svg {
 public:
  Svg(double width, double height);

  double width() const { return width_; }
  double height() const { return height_; }

  void rect(double x, double y, double w, double h, const Attributes& attrs = {});
  void line(double x1, double y1, double x2, double y2, const Attributes& attrs = {});
  // points: (x, y) pairs in pixels.
  void polyline(const std::vector<std::pair<double, double>>& points, const Attributes& attrs = {});
  void circle(double cx, double cy, double r, const Attributes& attrs = {});
  void text(double x, double y, std::string_view content, const Attributes& attrs = {});
  // <g attrs> ... </g>: every shape added until close_group() goes inside.
  void open_group(const Attributes& attrs);
  void close_group();

  std::string element() const;   // <svg ...>...</svg>
  std::string document() const;   // the XML declaration, then element()

 private:
  void add(std::string_view tag, const Attributes& attrs, std::string_view content = {}, bool leaf = true);
  double width_, height_;
  std::string body_;
  int open_groups_ = 0;
};

}  // namespace mone::report

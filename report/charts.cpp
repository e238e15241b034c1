#include "report/charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/status.h"
#include "report/svg.h"

namespace mone::report {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Tableau 10: distinguishable, and readable by most colour-blind readers.
const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

// The plot area inside a chart of size (w, h): room for the title, the axis labels and the ticks.
struct Frame {
  double left, top, right, bottom;
  double width() const { return right - left; }
  double height() const { return bottom - top; }
};

Frame frame_for(double w, double h, bool legend) {
  return {64.0, 34.0, w - (legend ? 150.0 : 16.0), h - 46.0};
}

// A linear or log10 axis from data range [lo, hi] onto pixels [p0, p1].
struct Axis {
  double lo, hi, p0, p1;
  bool log;
  double map(double v) const {
    const double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi, t = log ? std::log10(v) : v;
    return p0 + (t - a) / (b - a) * (p1 - p0);
  }
};

// Widens a degenerate range and, for a log axis, keeps it positive.
std::pair<double, double> padded_range(double lo, double hi, bool log) {
  if (!(lo <= hi)) return log ? std::pair{1.0, 10.0} : std::pair{0.0, 1.0};
  if (log) {
    if (lo == hi) return {lo / 2, hi * 2};
    return {lo, hi};
  }
  if (lo == hi) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.05;
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

// Tick values: on a linear axis 1-2-5 steps (about `n` of them); on a log axis the powers of ten
// when they are three or more, else 1, 2 and 5 times them, else linear steps.
std::vector<double> ticks(double lo, double hi, bool log, int n = 5) {
  std::vector<double> out;
  if (log) {
    for (const std::vector<double>& mantissas : {std::vector<double>{1}, std::vector<double>{1, 2, 5}}) {
      out.clear();
      for (double p = std::floor(std::log10(lo)); p <= std::ceil(std::log10(hi)); ++p) {
        for (double m : mantissas) {
          const double v = m * std::pow(10.0, p);
          if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
        }
      }
      if (out.size() >= 3) return out;
    }
    out.clear();
  }
  const double raw = (hi - lo) / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

void draw_title(Svg& svg, const std::string& title) {
  svg.text(svg.width() / 2, 20, title, {{"text-anchor", "middle"}, {"font-size", "14"}, {"font-weight", "bold"}});
}

// Axes, ticks, grid and labels around frame f.
void draw_axes(Svg& svg, const Frame& f, const Axis& x, const Axis& y, const std::string& x_label,
               const std::string& y_label, bool x_ticks = true) {
  svg.open_group({{"class", "axes"}});
  for (double v : ticks(y.lo, y.hi, y.log)) {
    const double py = y.map(v);
    svg.line(f.left, py, f.right, py, {{"stroke", "#e0e0e0"}});
    svg.text(f.left - 6, py + 4, tick_label(v), {{"text-anchor", "end"}});
  }
  if (x_ticks) {
    for (double v : ticks(x.lo, x.hi, x.log)) {
      const double px = x.map(v);
      svg.line(px, f.bottom, px, f.bottom + 4, {{"stroke", "#333"}});
      svg.text(px, f.bottom + 16, tick_label(v), {{"text-anchor", "middle"}});
    }
  }
  svg.rect(f.left, f.top, f.width(), f.height(), {{"fill", "none"}, {"stroke", "#333"}});
  svg.text(f.left + f.width() / 2, svg.height() - 8, x_label, {{"text-anchor", "middle"}});
  const double cy = f.top + f.height() / 2;
  svg.text(14, cy, y_label,
           {{"text-anchor", "middle"}, {"transform", absl::StrCat("rotate(-90 14 ", coord(cy), ")")}});
  svg.close_group();
}

bool plottable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

// An RGB colour for t in [0, 1] on viridis (five anchors, linear in between).
std::string viridis(double t) {
  static const double anchors[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4;
  const int i = std::min(static_cast<int>(t), 3);
  const double u = t - i;
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(anchors[i][0] + u * (anchors[i + 1][0] - anchors[i][0])),
                static_cast<int>(anchors[i][1] + u * (anchors[i + 1][1] - anchors[i][1])),
                static_cast<int>(anchors[i][2] + u * (anchors[i + 1][2] - anchors[i][2])));
  return buf;
}

}  // namespace

std::string line_chart_svg(const LineChart& c) {
  const bool legend = c.series.size() > 1;
  Svg svg(c.width, c.height);
  const Frame f = frame_for(c.width, c.height, legend);
  double x_lo = kInf, x_hi = -kInf, y_lo = kInf, y_hi = -kInf;
  for (const Series& s : c.series) {
    MONE_CHECK(s.x.size() == s.y.size()) << "series " << s.name << ": " << s.x.size() << " x and " << s.y.size() << " y";
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!plottable(s.x[i], c.log_x) || !plottable(s.y[i], c.log_y)) continue;
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  }
  const auto [xl, xh] = padded_range(x_lo, x_hi, c.log_x);
  auto [yl, yh] = padded_range(y_lo, y_hi, c.log_y);
  if (!c.log_y) {  // a little air above and below the curves
    const double pad = (yh - yl) * 0.05;
    yl -= pad, yh += pad;
  }
  const Axis x{xl, xh, f.left, f.right, c.log_x}, y{yl, yh, f.bottom, f.top, c.log_y};
  draw_title(svg, c.title);
  draw_axes(svg, f, x, y, c.x_label, c.y_label);
  for (size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    const std::string colour = kPalette[k % 10];
    std::vector<double> xs, ys;
    std::vector<std::pair<double, double>> points;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!plottable(s.x[i], c.log_x) || !plottable(s.y[i], c.log_y)) continue;
      xs.push_back(s.x[i]);
      ys.push_back(s.y[i]);
      points.emplace_back(x.map(s.x[i]), y.map(s.y[i]));
    }
    svg.open_group({{"class", "series"}, {"data-name", s.name}, {"data-x", data_list(xs)}, {"data-y", data_list(ys)}});
    if (points.size() > 1) svg.polyline(points, {{"stroke", colour}, {"stroke-width", "1.8"}});
    if (c.markers || points.size() == 1) {
      for (const auto& [px, py] : points) svg.circle(px, py, 3, {{"fill", colour}});
    }
    svg.close_group();
    if (legend) {
      const double ly = f.top + 8 + 18.0 * static_cast<double>(k);
      svg.line(f.right + 12, ly, f.right + 32, ly, {{"stroke", colour}, {"stroke-width", "3"}});
      svg.text(f.right + 38, ly + 4, s.name);
    }
  }
  return svg.document();
}

std::string histogram_svg(const Histogram& h) {
  MONE_CHECK(h.edges.size() == h.counts.size() + 1) << "histogram " << h.title << ": " << h.edges.size()
                                                     << " edges for " << h.counts.size() << " bins";
  Svg svg(h.width, h.height);
  const Frame f = frame_for(h.width, h.height, false);
  const auto height_of = [&](double c) { return h.log_y ? std::log10(1.0 + c) : c; };
  double top = 0;
  for (double c : h.counts) top = std::max(top, height_of(c));
  const auto [xl, xh] = padded_range(h.edges.empty() ? 0 : h.edges.front(), h.edges.empty() ? 1 : h.edges.back(), false);
  const Axis x{xl, xh, f.left, f.right, false}, y{0, top > 0 ? top * 1.05 : 1, f.bottom, f.top, false};
  draw_title(svg, h.title);
  draw_axes(svg, f, x, y, h.x_label, h.log_y ? "log10(1 + " + h.y_label + ")" : h.y_label);
  svg.open_group({{"class", "histogram"}, {"data-edges", data_list(h.edges)}, {"data-counts", data_list(h.counts)}});
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] <= 0) continue;
    const double x0 = x.map(h.edges[i]), x1 = x.map(h.edges[i + 1]), y1 = y.map(height_of(h.counts[i]));
    svg.rect(x0, y1, std::max(x1 - x0 - 0.5, 0.5), f.bottom - y1, {{"fill", kPalette[0]}});
  }
  svg.close_group();
  return svg.document();
}

std::string heatmap_svg(const Heatmap& h) {
  MONE_CHECK(static_cast<int64_t>(h.values.size()) == h.rows * h.cols)
      << "heat map " << h.title << ": " << h.values.size() << " values for " << h.rows << " x " << h.cols;
  const double cell_h = h.rows > 0 ? std::clamp(240.0 / static_cast<double>(h.rows), 4.0, 28.0) : 10;
  const double height = h.height > 0 ? h.height : 34 + cell_h * static_cast<double>(h.rows) + 70;
  Svg svg(h.width, height);
  const Frame f{h.row_labels.empty() ? 40.0 : 90.0, 34.0, h.width - 90.0, 34 + cell_h * static_cast<double>(h.rows)};
  double lo = kInf, hi = -kInf;
  for (double v : h.values) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  draw_title(svg, h.title);
  const double cell_w = h.cols > 0 ? f.width() / static_cast<double>(h.cols) : 1;
  svg.open_group({{"class", "heatmap"}, {"data-rows", std::to_string(h.rows)}, {"data-cols", std::to_string(h.cols)},
                  {"data-values", data_list(h.values)}});
  for (int64_t r = 0; r < h.rows; ++r) {
    for (int64_t c = 0; c < h.cols; ++c) {
      const double v = h.values[r * h.cols + c];
      svg.rect(f.left + cell_w * static_cast<double>(c), f.top + cell_h * static_cast<double>(r), cell_w + 0.3,
               cell_h + 0.3, {{"fill", viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5)}});
    }
  }
  svg.close_group();
  for (int64_t r = 0; r < static_cast<int64_t>(h.row_labels.size()) && r < h.rows; ++r) {
    svg.text(f.left - 6, f.top + cell_h * (static_cast<double>(r) + 0.5) + 4, h.row_labels[r], {{"text-anchor", "end"}});
  }
  svg.rect(f.left, f.top, f.width(), f.height(), {{"fill", "none"}, {"stroke", "#333"}});
  svg.text(f.left, f.bottom + 16, "0");
  svg.text(f.right, f.bottom + 16, std::to_string(std::max<int64_t>(h.cols - 1, 0)), {{"text-anchor", "end"}});
  svg.text(f.left + f.width() / 2, f.bottom + 30, h.x_label, {{"text-anchor", "middle"}});
  svg.text(f.left - 6, f.top - 6, h.y_label, {{"text-anchor", "end"}});
  // The colour scale: ten steps from min to max.
  const double bx = f.right + 20, bh = std::max(f.height(), 60.0);
  for (int i = 0; i < 10; ++i) {
    svg.rect(bx, f.top + bh * (9 - i) / 10.0, 14, bh / 10.0 + 0.3, {{"fill", viridis(i / 9.0)}});
  }
  svg.text(bx + 18, f.top + 10, tick_label(hi));
  svg.text(bx + 18, f.top + bh, tick_label(lo));
  svg.text(h.width - 4, f.top + bh + 16, h.value_label, {{"text-anchor", "end"}});
  return svg.document();
}

}  // namespace mone::report
